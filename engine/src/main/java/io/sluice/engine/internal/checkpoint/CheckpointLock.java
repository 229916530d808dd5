package io.sluice.engine.internal.checkpoint;

import io.sluice.engine.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one owner of a checkpoint directory: an exclusive {@link FileLock} on {@code <dir>/.lock},
 * held for the life of a running context, so a second context — in this JVM or another process — is
 * refused at once instead of interleaving its batches with the first one's. Taking it also proves
 * the directory is writable (a probe file is created, written, forced to disk and removed), so a
 * read-only checkpoint fails at start, before any batch runs.
 *
 * <p>Not thread-safe; {@link #close()} is idempotent.
 */
final class CheckpointLock implements AutoCloseable {

  static final String LOCK_FILE = ".lock";
  static final String PROBE_FILE = ".write-probe";

  private final Path dir;
  private final FileChannel channel;
  private FileLock lock;

  private CheckpointLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Creates {@code dir} if needed, checks it is writable and locks it.
   *
   * @throws CheckpointException when the directory cannot be created or written, or is already
   *     locked
   */
  static CheckpointLock acquire(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new CheckpointException("cannot create checkpoint directory " + dir + ": " + e);
    }
    probe(dir);
    Path file = dir.resolve(LOCK_FILE);
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new CheckpointException(
          "cannot open the lock file " + file + " of checkpoint directory " + dir + ": " + e);
    }
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new CheckpointException("cannot lock checkpoint directory " + dir + ": " + e);
    }
    if (lock == null) {
      closeQuietly(channel);
      throw new CheckpointException(
          "checkpoint directory "
              + dir
              + " is already used by a running context"
              + " (its lock file "
              + file
              + " is held, by this process or another one). Stop that context first,"
              + " or give this one its own checkpointDir");
    }
    return new CheckpointLock(dir, channel, lock);
  }

  /**
   * Creates, writes, forces and removes a probe file; existing log files must open for appending.
   */
  private static void probe(Path dir) {
    Path probe = dir.resolve(PROBE_FILE);
    try (FileChannel ch =
        FileChannel.open(
            probe,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap("probe\n".getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    } catch (IOException e) {
      throw new CheckpointException(
          "checkpoint directory "
              + dir
              + " is not writable ("
              + e
              + "); a context needs to write its batch log there before any batch runs");
    }
    try {
      Files.delete(probe);
    } catch (IOException e) {
      throw new CheckpointException(
          "checkpoint directory " + dir + " does not let files be removed (" + e + ")");
    }
    for (String name : new String[] {BatchLog.BATCHES, BatchLog.COMMITS}) {
      Path file = dir.resolve(name);
      if (!Files.exists(file)) {
        continue;
      }
      try (FileChannel ch =
          FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        ch.force(false);
      } catch (IOException e) {
        throw new CheckpointException(
            "checkpoint file "
                + file
                + " is not writable ("
                + e
                + "); a context appends to it for every batch");
      }
    }
  }

  /** The locked directory. */
  Path dir() {
    return dir;
  }

  /** Releases the lock; idempotent. */
  @Override
  public void close() {
    if (lock == null) {
      return;
    }
    try {
      lock.release();
    } catch (IOException ignored) {
      // closing the channel below releases it too
    } finally {
      lock = null;
      closeQuietly(channel);
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing left to release
    }
  }
}
