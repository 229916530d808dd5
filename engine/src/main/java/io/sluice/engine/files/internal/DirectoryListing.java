package io.sluice.engine.files.internal;

import io.sluice.engine.files.internal.FilePlan.FileEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lists the files of a directory stream's directory that a batch may read: regular files (links
 * followed), not subdirectories, and not the names that mark a file still being written or hidden
 * (see {@link #eligible}). The names are listed first and the attributes read only for the names a
 * batch may take, so a directory keeping many processed files costs one listing per batch.
 * Stateless; blocks on file I/O.
 */
final class DirectoryListing {

  /** Oldest first, by modification time, then name: the order files are numbered in. */
  static final Comparator<FileEntry> ORDER =
      Comparator.comparingLong(FileEntry::modifiedMillis).thenComparing(FileEntry::name);

  private DirectoryListing() {}

  /**
   * Whether a file named {@code name} is one the stream reads: not hidden ({@code .} or {@code _}
   * first), not a temporary name ({@code .tmp}, {@code ._COPYING_} last, as {@code hdfs dfs -put}
   * and many writers use until they rename).
   */
  static boolean eligible(String name) {
    return !name.startsWith(".")
        && !name.startsWith("_")
        && !name.endsWith(".tmp")
        && !name.endsWith("._COPYING_");
  }

  /**
   * The eligible names in {@code dir}, of files and anything else (no attributes are read).
   *
   * @throws UncheckedIOException naming the stream and the directory when it cannot be listed
   */
  static Set<String> names(Path dir, String stream) {
    Set<String> names = new HashSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (eligible(name)) {
          names.add(name);
        }
      }
    } catch (IOException e) {
      throw cannotList(dir, stream, e);
    } catch (DirectoryIteratorException e) {
      throw cannotList(dir, stream, e.getCause());
    }
    return names;
  }

  private static UncheckedIOException cannotList(Path dir, String stream, IOException e) {
    return new UncheckedIOException(
        "file stream '" + stream + "': cannot list directory " + dir, e);
  }

  /**
   * Of {@code names} in {@code dir}, the regular files (links followed) with their size and
   * modification time, in {@link #ORDER}. A name deleted since the listing is left out.
   *
   * @throws UncheckedIOException naming the stream and the file when its attributes cannot be read
   */
  static List<FileEntry> regularFiles(Path dir, Collection<String> names, String stream) {
    List<FileEntry> files = new ArrayList<>();
    for (String name : names) {
      Path p = dir.resolve(name);
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(p, BasicFileAttributes.class);
      } catch (NoSuchFileException gone) {
        continue;
      } catch (IOException e) {
        throw new UncheckedIOException(
            "file stream '" + stream + "': cannot read the attributes of " + p, e);
      }
      if (attrs.isRegularFile()) {
        files.add(new FileEntry(name, attrs.size(), attrs.lastModifiedTime().toMillis()));
      }
    }
    files.sort(ORDER);
    return files;
  }

  /**
   * Checks that {@code dir} is a directory this process can list.
   *
   * @throws IllegalStateException naming the directory and why it cannot be read
   */
  static void checkReadable(Path dir, String stream) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "file stream '"
              + stream
              + "': "
              + dir
              + (Files.exists(dir) ? " is not a directory" : " does not exist")
              + "; create the directory the stream reads before starting the context");
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      entries.iterator().hasNext(); // reading its first entry is the check
    } catch (IOException | DirectoryIteratorException e) {
      throw new IllegalStateException(
          "file stream '" + stream + "': cannot read directory " + dir + ": " + e, e);
    }
  }
}
