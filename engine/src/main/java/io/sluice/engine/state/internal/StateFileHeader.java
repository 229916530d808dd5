package io.sluice.engine.state.internal;

import io.sluice.engine.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The fixed header at the start of every state file (big-endian):
 *
 * <pre>
 * offset size field
 *  0     4    magic 0x534C5354 ("SLST")
 *  4     2    format version (1)
 *  6     2    header length in bytes (48 for version 1)
 *  8     4    header CRC32C, over bytes [0, 8) and [12, header length)
 * 12     1    kind: 1 = delta, 2 = snapshot
 * 13     3    reserved, zero
 * 16     8    state version (the batch id)
 * 24     8    entry count
 * 32     8    payload length in bytes (the file is exactly header length + payload length)
 * 40     4    payload CRC32C
 * 44     4    reserved, zero
 * </pre>
 *
 * The first 12 bytes keep this meaning in every format version, so any version can check a header's
 * integrity before deciding it is too new to read: a flipped bit is reported as damage, never as a
 * newer format.
 *
 * @param formatVersion the format the file was written in
 * @param kind delta or snapshot
 * @param version the state version (batch id) the file belongs to
 * @param entries how many entries the payload holds
 * @param payloadLength payload bytes after the header
 * @param payloadCrc CRC32C of the payload
 */
record StateFileHeader(
    int formatVersion, Kind kind, long version, long entries, long payloadLength, int payloadCrc) {

  /** "SLST": Sluice state. */
  static final int MAGIC = 0x534C5354;

  /** The newest format this code reads, and the one it writes. */
  static final int FORMAT_VERSION = 1;

  /** Header length of format version 1. */
  static final int LENGTH = 48;

  private static final int PREFIX = 12;

  /** What a state file holds. */
  enum Kind {
    /** The puts and removes of one batch. */
    DELTA(1, "delta"),
    /** Every entry of the state at one version. */
    SNAPSHOT(2, "snapshot");

    final int code;
    final String suffix;

    Kind(int code, String suffix) {
      this.code = code;
      this.suffix = suffix;
    }

    static Kind ofCode(int code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      return null;
    }
  }

  /** The header bytes, checksum included, ready to write at offset 0. */
  ByteBuffer encode() {
    ByteBuffer b = ByteBuffer.allocate(LENGTH);
    b.putInt(MAGIC).putShort((short) formatVersion).putShort((short) LENGTH).putInt(0);
    b.put((byte) kind.code).put(new byte[3]);
    b.putLong(version).putLong(entries).putLong(payloadLength).putInt(payloadCrc).putInt(0);
    b.putInt(8, headerCrc(b.array(), LENGTH));
    return b.rewind();
  }

  /**
   * Reads and checks the header of {@code file}.
   *
   * @throws DamagedStateFileException when the header is truncated, fails its checksum or is not a
   *     state file header
   * @throws CheckpointException when the header is intact but its format is newer than this code
   */
  static StateFileHeader read(Path file, FileChannel ch)
      throws IOException, DamagedStateFileException {
    long size = ch.size();
    if (size < PREFIX) {
      throw new DamagedStateFileException(
          file, "is truncated: " + size + " bytes, shorter than the state file header");
    }
    ByteBuffer prefix = readAt(ch, PREFIX);
    int magic = prefix.getInt(0);
    if (magic != MAGIC) {
      throw new DamagedStateFileException(
          file, String.format("does not start with the state file magic number (0x%08X)", magic));
    }
    int format = Short.toUnsignedInt(prefix.getShort(4));
    int headerLength = Short.toUnsignedInt(prefix.getShort(6));
    if (headerLength < PREFIX || headerLength > size) {
      throw new DamagedStateFileException(
          file,
          "is truncated or corrupt in its header: header length "
              + headerLength
              + ", file length "
              + size);
    }
    ByteBuffer h = readAt(ch, headerLength);
    if (headerCrc(h.array(), headerLength) != prefix.getInt(8)) {
      throw new DamagedStateFileException(file, "fails its header checksum (CRC32C)");
    }
    if (format > FORMAT_VERSION) {
      throw new CheckpointException(
          "state file "
              + file
              + " has format version "
              + format
              + ", newer than version "
              + FORMAT_VERSION
              + ", the newest this Sluice supports; run the newer Sluice that wrote it, or restore"
              + " a checkpoint written by this one");
    }
    Kind kind = Kind.ofCode(h.get(12));
    if (format < 1 || headerLength != LENGTH || kind == null) {
      throw new DamagedStateFileException(
          file, "has an invalid header (format " + format + ", length " + headerLength + ")");
    }
    return new StateFileHeader(
        format, kind, h.getLong(16), h.getLong(24), h.getLong(32), h.getInt(40));
  }

  private static ByteBuffer readAt(FileChannel ch, int length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    while (b.hasRemaining()) {
      if (ch.read(b, b.position()) < 0) {
        throw new IOException("unexpected end of file");
      }
    }
    return b.flip();
  }

  private static int headerCrc(byte[] header, int length) {
    CRC32C crc = new CRC32C();
    crc.update(header, 0, 8);
    crc.update(header, PREFIX, length - PREFIX);
    return (int) crc.getValue();
  }
}
