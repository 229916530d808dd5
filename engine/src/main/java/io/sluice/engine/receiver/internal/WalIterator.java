package io.sluice.engine.receiver.internal;

import io.sluice.engine.CheckpointException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Iterates the records of a {@link WriteAheadLog} in order, segment by segment, verifying every
 * checksum; from {@link WriteAheadLog#iterate()}. Strict: a closed segment must end with its seal,
 * and any damage is a {@link CheckpointException} naming file and byte offset (the log's open
 * already cut a torn tail, so none is expected here).
 *
 * <p>Not thread-safe; blocks on file I/O. Close it to release the open file.
 */
public final class WalIterator implements Iterator<WalRecord>, AutoCloseable {

  /** One segment to read: to {@code limit} bytes (-1: the whole file), sealed or being written. */
  record Source(long segment, Path file, long limit, boolean mustBeSealed) {}

  private final List<Source> sources;
  private int index;
  private SegmentReader reader;
  private Source current;
  private WalRecord next;

  WalIterator(List<Source> sources) {
    this.sources = sources;
  }

  @Override
  public boolean hasNext() {
    while (next == null) {
      if (reader == null) {
        if (index == sources.size()) {
          return false;
        }
        current = sources.get(index++);
        reader = open(current);
      }
      try {
        next = reader.next();
      } catch (DamagedSegmentException e) {
        close();
        throw e.refusal();
      }
      if (next == null) {
        boolean unsealed = current.mustBeSealed() && !reader.sealed();
        long end = reader.position();
        close();
        if (unsealed) {
          throw new DamagedSegmentException(
                  current.file(), end, "the segment ends without its seal: truncated", false)
              .refusal();
        }
      }
    }
    return true;
  }

  @Override
  public WalRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    WalRecord r = next;
    next = null;
    return r;
  }

  /** Closes the segment being read. Idempotent. */
  @Override
  public void close() {
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }

  private static SegmentReader open(Source s) {
    try {
      return SegmentReader.open(s.segment(), s.file(), s.limit());
    } catch (DamagedSegmentException e) {
      throw e.refusal();
    }
  }
}
