package io.sluice.engine.receiver.internal;

import io.sluice.engine.CheckpointException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The on-disk format of a write-ahead log segment, big-endian. A segment file {@code <id, 20
 * digits>.wal} is a header, records, and a seal once the segment is closed.
 *
 * <p>Segment header:
 *
 * <pre>
 * offset size field
 *  0     4    magic 0x534C574C ("SLWL")
 *  4     2    format version (1)
 *  6     2    header length in bytes (32 for version 1)
 *  8     4    header CRC32C, over bytes [0, 8) and [12, header length)
 * 12     4    reserved, zero
 * 16     8    segment id (equal to the file name's)
 * 24     8    creation time, epoch milliseconds
 * </pre>
 *
 * As in the state file header, the first 12 bytes keep this meaning in every version, so a flipped
 * bit is reported as damage, never as a newer format.
 *
 * <p>Record, then seal:
 *
 * <pre>
 * offset size field
 *  0     4    payload length n, 0 &lt;= n &lt;= {@link #MAX_PAYLOAD}; -1 marks the seal
 *  4     4    payload CRC32C; in the seal, the number of records in the segment
 *  8     4    record header CRC32C, over bytes [0, 8): a torn or flipped length is caught before
 *             it is trusted to find the payload or the next record
 * 12     n    payload (none in the seal)
 * </pre>
 *
 * The seal is the last 12 bytes of every closed segment: a segment that lost whole records at its
 * end is detected too. Stateless.
 */
final class WalFormat {

  /** "SLWL": Sluice write-ahead log. */
  static final int MAGIC = 0x534C574C;

  /** The newest format this code reads, and the one it writes. */
  static final int FORMAT_VERSION = 1;

  static final int SEGMENT_HEADER_LENGTH = 32;
  static final int RECORD_HEADER_LENGTH = 12;
  static final int SEAL_LENGTH = -1;

  /** The largest payload accepted: 1 GiB. */
  static final int MAX_PAYLOAD = 1 << 30;

  static final String SUFFIX = ".wal";
  static final String TMP_SUFFIX = ".wal.tmp";

  private static final int PREFIX = 12;

  private WalFormat() {}

  static String fileName(long segment) {
    return String.format("%020d%s", segment, SUFFIX);
  }

  /** The segment id of a file name, or -1 when the name is not a segment's. */
  static long segmentOf(String fileName) {
    if (fileName.length() != 20 + SUFFIX.length() || !fileName.endsWith(SUFFIX)) {
      return -1;
    }
    for (int i = 0; i < 20; i++) {
      if (!Character.isDigit(fileName.charAt(i))) {
        return -1;
      }
    }
    try {
      return Long.parseLong(fileName, 0, 20, 10);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static byte[] segmentHeader(long segment, long createdAtMillis) {
    ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER_LENGTH);
    b.putInt(MAGIC).putShort((short) FORMAT_VERSION).putShort((short) SEGMENT_HEADER_LENGTH);
    b.putInt(0).putInt(0).putLong(segment).putLong(createdAtMillis);
    b.putInt(8, segmentHeaderCrc(b.array(), SEGMENT_HEADER_LENGTH));
    return b.array();
  }

  /**
   * Checks a segment header read from {@code file}.
   *
   * @param header the file's first bytes, at most {@link #SEGMENT_HEADER_LENGTH} of them
   * @throws DamagedSegmentException when the header is short, fails its checksum, or names another
   *     segment
   * @throws CheckpointException when the header is intact but its format is newer than this code
   */
  static void checkSegmentHeader(Path file, long segment, byte[] header, int length)
      throws DamagedSegmentException {
    if (length < PREFIX) {
      throw new DamagedSegmentException(
          file, 0, "segment header is truncated: " + length + " bytes", false);
    }
    ByteBuffer b = ByteBuffer.wrap(header);
    if (b.getInt(0) != MAGIC) {
      throw new DamagedSegmentException(
          file,
          0,
          String.format("does not start with the write-ahead log magic (0x%08X)", b.getInt(0)),
          false);
    }
    int format = Short.toUnsignedInt(b.getShort(4));
    int headerLength = Short.toUnsignedInt(b.getShort(6));
    if (headerLength < PREFIX || headerLength > length) {
      throw new DamagedSegmentException(
          file, 0, "segment header is truncated or corrupt: length " + headerLength, false);
    }
    if (segmentHeaderCrc(header, headerLength) != b.getInt(8)) {
      throw new DamagedSegmentException(
          file, 0, "segment header checksum (CRC32C) mismatch", false);
    }
    if (format > FORMAT_VERSION) {
      throw new CheckpointException(
          "write-ahead log segment "
              + file
              + " has format version "
              + format
              + ", newer than version "
              + FORMAT_VERSION
              + ", the newest this Sluice reads; run the newer Sluice that wrote it");
    }
    if (format < 1 || headerLength != SEGMENT_HEADER_LENGTH) {
      throw new DamagedSegmentException(
          file,
          0,
          "invalid segment header (format " + format + ", length " + headerLength + ")",
          false);
    }
    if (b.getLong(16) != segment) {
      throw new DamagedSegmentException(
          file, 0, "segment header names segment " + b.getLong(16) + ", not " + segment, false);
    }
  }

  /** A record header for {@code payload[0, length)}. */
  static byte[] recordHeader(byte[] payload, int length) {
    return header(length, crc(payload, 0, length));
  }

  /** The seal of a segment holding {@code records} records. */
  static byte[] seal(int records) {
    return header(SEAL_LENGTH, records);
  }

  private static byte[] header(int length, int second) {
    ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER_LENGTH);
    b.putInt(length).putInt(second);
    b.putInt(crc(b.array(), 0, 8));
    return b.array();
  }

  /** True when {@code header}'s own checksum holds. */
  static boolean recordHeaderValid(byte[] header) {
    return crc(header, 0, 8) == ByteBuffer.wrap(header).getInt(8);
  }

  static int crc(byte[] bytes, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, off, len);
    return (int) crc.getValue();
  }

  private static int segmentHeaderCrc(byte[] header, int length) {
    CRC32C crc = new CRC32C();
    crc.update(header, 0, 8);
    crc.update(header, PREFIX, length - PREFIX);
    return (int) crc.getValue();
  }
}
