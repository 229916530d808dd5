package io.sluice.engine.receiver.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads one segment's records in order, verifying every checksum, up to a byte limit (the file's
 * size, or the writer's position for the segment being written). Classifies what it cannot read:
 * damage that nothing readable follows (a torn tail) versus damage before readable bytes.
 *
 * <p>Not thread-safe; blocks on file I/O. Uses {@code java.io} streams, which an interrupt does not
 * close.
 */
final class SegmentReader implements AutoCloseable {

  private static final int BUFFER = 1 << 16;

  private final long segment;
  private final Path file;
  private final long limit;
  private final InputStream in;
  private final byte[] header = new byte[WalFormat.RECORD_HEADER_LENGTH];
  private long position;
  private int records;
  private boolean sealed;
  private boolean done;

  private SegmentReader(long segment, Path file, long limit, InputStream in) {
    this.segment = segment;
    this.file = file;
    this.limit = limit;
    this.in = in;
  }

  /**
   * Opens {@code file} and checks its header.
   *
   * @param limit bytes to read, or -1 for the whole file
   * @throws DamagedSegmentException when the header is damaged
   */
  static SegmentReader open(long segment, Path file, long limit) throws DamagedSegmentException {
    InputStream in = null;
    try {
      long size = limit < 0 ? Files.size(file) : limit;
      in = new BufferedInputStream(Files.newInputStream(file), BUFFER);
      byte[] h = in.readNBytes(WalFormat.SEGMENT_HEADER_LENGTH);
      WalFormat.checkSegmentHeader(file, segment, h, (int) Math.min(h.length, size));
      SegmentReader reader = new SegmentReader(segment, file, size, in);
      reader.position = WalFormat.SEGMENT_HEADER_LENGTH;
      in = null;
      return reader;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read write-ahead log segment " + file, e);
    } finally {
      closeQuietly(in);
    }
  }

  /**
   * The next record, or null at the end: after the seal, or at the limit of an unsealed segment.
   *
   * @throws DamagedSegmentException at the first byte that is not a valid record or seal
   */
  WalRecord next() throws DamagedSegmentException {
    if (done) {
      return null;
    }
    long remaining = limit - position;
    if (remaining == 0) {
      done = true;
      return null;
    }
    if (remaining < WalFormat.RECORD_HEADER_LENGTH) {
      throw damage("incomplete record header: " + remaining + " of 12 bytes", true);
    }
    readFully(header, header.length);
    ByteBuffer h = ByteBuffer.wrap(header);
    int length = h.getInt(0);
    if (!WalFormat.recordHeaderValid(header)) {
      boolean zeroTail = allZero(header) && restIsZero(remaining - header.length);
      throw damage(
          zeroTail
              ? "zero-filled tail (an append the file system had not written)"
              : "record header checksum (CRC32C) mismatch",
          zeroTail);
    }
    if (length == WalFormat.SEAL_LENGTH) {
      return seal(h.getInt(4), remaining);
    }
    if (length < 0 || length > WalFormat.MAX_PAYLOAD) {
      throw damage("invalid record length " + length, false);
    }
    if (remaining - header.length < length) {
      throw damage(
          "incomplete record: payload of "
              + length
              + " bytes, "
              + (remaining - header.length)
              + " present",
          true);
    }
    byte[] payload = new byte[length];
    readFully(payload, length);
    if (WalFormat.crc(payload, 0, length) != h.getInt(4)) {
      throw damage(
          "payload checksum (CRC32C) mismatch in a record of " + length + " bytes",
          remaining == header.length + length);
    }
    WalRecord record = new WalRecord(new WalPointer(segment, position, length), payload);
    position += header.length + length;
    records++;
    return record;
  }

  private WalRecord seal(int count, long remaining) throws DamagedSegmentException {
    if (remaining != WalFormat.RECORD_HEADER_LENGTH) {
      throw damage(
          "segment seal followed by " + (remaining - WalFormat.RECORD_HEADER_LENGTH) + " bytes",
          false);
    }
    if (count != records) {
      throw damage(
          "segment seal counts " + count + " records, the segment holds " + records, false);
    }
    position += WalFormat.RECORD_HEADER_LENGTH;
    sealed = true;
    done = true;
    return null;
  }

  /** Where the next record starts: after the end, the end of the last good record (or seal). */
  long position() {
    return position;
  }

  /** Records read so far. */
  int records() {
    return records;
  }

  /** True once the seal was read. */
  boolean sealed() {
    return sealed;
  }

  Path file() {
    return file;
  }

  @Override
  public void close() {
    closeQuietly(in);
  }

  private DamagedSegmentException damage(String problem, boolean torn) {
    done = true;
    return new DamagedSegmentException(file, position, problem, torn);
  }

  private void readFully(byte[] into, int length) {
    try {
      if (in.readNBytes(into, 0, length) != length) {
        throw new IOException("file shorter than its size: changed while being read");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read write-ahead log segment " + file + " at byte " + position, e);
    }
  }

  private boolean restIsZero(long bytes) {
    byte[] chunk = new byte[(int) Math.min(BUFFER, Math.max(bytes, 0))];
    long left = bytes;
    while (left > 0) {
      int n = (int) Math.min(chunk.length, left);
      readFully(chunk, n);
      for (int i = 0; i < n; i++) {
        if (chunk[i] != 0) {
          return false;
        }
      }
      left -= n;
    }
    return true;
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static void closeQuietly(InputStream in) {
    if (in != null) {
      try {
        in.close();
      } catch (IOException ignored) {
        // read-only stream: nothing to lose
      }
    }
  }
}
