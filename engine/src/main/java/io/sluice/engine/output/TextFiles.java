package io.sluice.engine.output;

import io.sluice.engine.function.Function;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Iterator;
import java.util.stream.Stream;

/**
 * Writes a batch as a directory of text part files that appears whole or not at all: each partition
 * goes to {@code part-NNNNN} through a temporary name (so a retried task replaces it whole), the
 * directory is built under a temporary name, forced to disk, and renamed into place. Used by {@code
 * saveAsTextFiles} and the sinks' {@code FileSink}. Static methods; thread-safe for different
 * files.
 */
public final class TextFiles {

  private TextFiles() {}

  /** The name of partition {@code partition}'s file: {@code part-00003}. */
  public static String partFile(int partition) {
    return String.format("part-%05d", partition);
  }

  /**
   * Writes one line per element of {@code records} (formatted by {@code format}) to {@code
   * dir/part-NNNNN}, forced to disk, through a temporary name renamed atomically. Returns the
   * number of lines. Task thread.
   */
  public static <T> long writePart(
      Path dir, int partition, Iterator<T> records, Function<T, String> format) throws Exception {
    Path target = dir.resolve(partFile(partition));
    Path inProgress = dir.resolve("." + partFile(partition) + ".inprogress");
    long n = 0;
    try (FileChannel channel =
            FileChannel.open(
                inProgress,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        BufferedWriter out =
            new BufferedWriter(
                new OutputStreamWriter(Channels.newOutputStream(channel), StandardCharsets.UTF_8),
                64 * 1024)) {
      while (records.hasNext()) {
        out.write(format.call(records.next()));
        out.write('\n');
        n++;
      }
      out.flush();
      channel.force(true);
    }
    Files.move(
        inProgress, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return n;
  }

  /**
   * Renames the complete directory {@code temp} to {@code target}, replacing an existing {@code
   * target}: a directory cannot be renamed over a non-empty one, so the old one is first moved to
   * {@code aside} (which a caller restores on start if a crash falls between the two renames) and
   * deleted afterwards. Returns whether it replaced an existing directory.
   */
  public static boolean publish(Path temp, Path target, Path aside) throws IOException {
    forceDirectory(temp);
    boolean replacing = Files.exists(target);
    if (replacing) {
      deleteRecursively(aside);
      Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    forceDirectory(target.getParent());
    if (replacing) {
      deleteRecursively(aside);
    }
    return replacing;
  }

  /**
   * Forces a directory's entries to disk; a file system that cannot open directories is left alone.
   */
  public static void forceDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Some file systems refuse to open directories; the data files themselves are already forced.
    }
  }

  /** Deletes {@code p} and everything below it; nothing when it does not exist. */
  public static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              f -> {
                try {
                  Files.delete(f);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
