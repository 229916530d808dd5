package io.sluice.engine.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * File-system steps that make a write durable: an atomic rename and a directory fsync. The one
 * place for them: the checkpoint logs, the state store and the write-ahead log all use it.
 * Stateless; every method blocks on file I/O.
 */
public final class DurableFiles {

  private static final int DIRECTORY_FORCE_ATTEMPTS = 3;

  private DurableFiles() {}

  /**
   * Renames {@code from} to {@code to} atomically where the file system can, replacing {@code to}.
   */
  public static void move(Path from, Path to) {
    try {
      try {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rename " + from + " to " + to, e);
    }
  }

  /**
   * Makes creations, renames and deletions in {@code dir} durable. Best effort where the file
   * system refuses to open a directory. Safe on an interrupted thread: an interrupt would close the
   * directory channel before the fsync, so the status is cleared for the call and restored after.
   */
  public static void forceDirectory(Path dir) {
    boolean interrupted = Thread.interrupted();
    try {
      for (int attempt = 1; attempt <= DIRECTORY_FORCE_ATTEMPTS; attempt++) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
          ch.force(true);
          return;
        } catch (ClosedByInterruptException e) {
          interrupted |= Thread.interrupted();
        } catch (IOException ignored) {
          return; // the file system does not fsync directories; renames are as durable as it allows
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
