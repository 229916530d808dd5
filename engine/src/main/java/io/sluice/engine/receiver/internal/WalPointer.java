package io.sluice.engine.receiver.internal;

/**
 * Where one record of a {@link WriteAheadLog} lives: its segment, the byte offset of its record
 * header in the segment file, and its payload length. Stable for the life of the segment; what a
 * block's metadata keeps to read the block back after a crash.
 *
 * @param segment the segment id (the file {@code <segment, 20 digits>.wal})
 * @param offset byte offset of the record's header in the segment file
 * @param length payload length in bytes
 */
public record WalPointer(long segment, long offset, int length) {

  /** Checks the fields. */
  public WalPointer {
    if (segment < 0) {
      throw new IllegalArgumentException("segment must be >= 0, was " + segment);
    }
    if (offset < WalFormat.SEGMENT_HEADER_LENGTH) {
      throw new IllegalArgumentException(
          "offset must be >= " + WalFormat.SEGMENT_HEADER_LENGTH + ", was " + offset);
    }
    if (length < 0) {
      throw new IllegalArgumentException("length must be >= 0, was " + length);
    }
  }

  /** The offset just past this record: where the next record of the segment starts. */
  public long end() {
    return offset + WalFormat.RECORD_HEADER_LENGTH + length;
  }
}
