package io.sluice.engine.state.internal;

import io.sluice.engine.internal.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names and file-system steps for one partition's state directory: {@code <version>.delta}, {@code
 * <version>.snapshot}, their {@code .tmp} forms while being written and {@code .corrupt} forms once
 * recovery set them aside. Stateless; every method blocks on file I/O.
 */
final class StateFiles {

  static final String TMP = ".tmp";
  static final String CORRUPT = ".corrupt";

  private static final Logger LOG = LoggerFactory.getLogger(StateFiles.class);
  private static final Pattern NAME = Pattern.compile("(0|[1-9][0-9]{0,18})\\.(delta|snapshot)");

  /** The delta and snapshot versions found in a directory. */
  record Listing(NavigableSet<Long> deltas, NavigableSet<Long> snapshots) {}

  private StateFiles() {}

  static Path file(Path dir, StateFileHeader.Kind kind, long version) {
    return dir.resolve(version + "." + kind.suffix);
  }

  static Path tmp(Path file) {
    return file.resolveSibling(file.getFileName() + TMP);
  }

  /**
   * Lists {@code dir}'s state files and deletes temporary files left by an interrupted write. Other
   * names are ignored.
   */
  static Listing scan(Path dir) {
    NavigableSet<Long> deltas = new TreeSet<>();
    NavigableSet<Long> snapshots = new TreeSet<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        Matcher m = NAME.matcher(name);
        if (m.matches()) {
          long version;
          try {
            version = Long.parseLong(m.group(1));
          } catch (NumberFormatException e) {
            continue;
          }
          (m.group(2).equals("delta") ? deltas : snapshots).add(version);
        } else if (name.endsWith(TMP)
            && NAME.matcher(name.substring(0, name.length() - 4)).matches()) {
          LOG.info("Deleting {}, left by a state write that did not finish", f);
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list state directory " + dir, e);
    }
    return new Listing(deltas, snapshots);
  }

  /** Renames {@code from} to {@code to} atomically, replacing {@code to}. */
  static void move(Path from, Path to) {
    DurableFiles.move(from, to);
  }

  static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete state file " + file, e);
    }
  }

  /** Sets a damaged file aside as {@code <name>.corrupt}, kept for inspection, never read again. */
  static void quarantine(Path file) {
    move(file, file.resolveSibling(file.getFileName() + CORRUPT));
  }

  /** Makes renames and creations in {@code dir} durable. */
  static void forceDirectory(Path dir) {
    DurableFiles.forceDirectory(dir);
  }
}
