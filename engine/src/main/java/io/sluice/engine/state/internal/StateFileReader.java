package io.sluice.engine.state.internal;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Reads state files written by {@link StateFileWriter}, in two passes: {@link #verify} checks the
 * header, the length and the payload checksum without decoding anything; {@link #read} then decodes
 * the entries of a verified file. Verifying first means damaged bytes never reach a deserializer or
 * the in-memory state. Stateless; blocks on file I/O.
 */
final class StateFileReader {

  private static final int BUFFER = 1 << 16;

  /** Receives decoded entries; a snapshot's entries arrive as puts. */
  interface EntryConsumer {
    void put(byte[] key, byte[] value);

    void remove(byte[] key);
  }

  private StateFileReader() {}

  /**
   * Checks that {@code file} is an intact state file of {@code kind} for {@code version}.
   *
   * @throws DamagedStateFileException when it is truncated, too long, fails a checksum or belongs
   *     to another kind or version
   * @throws io.sluice.engine.CheckpointException when its format is newer than this code
   */
  static StateFileHeader verify(Path file, StateFileHeader.Kind kind, long version)
      throws DamagedStateFileException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      StateFileHeader h = StateFileHeader.read(file, ch);
      if (h.kind() != kind || h.version() != version) {
        throw new DamagedStateFileException(
            file, "holds a " + h.kind().suffix + " of version " + h.version() + ", not its name's");
      }
      long expected = StateFileHeader.LENGTH + h.payloadLength();
      long size = ch.size();
      if (h.payloadLength() < 0 || size < expected) {
        throw new DamagedStateFileException(
            file, "is truncated (torn write): " + size + " bytes, its header says " + expected);
      }
      if (size > expected) {
        throw new DamagedStateFileException(
            file, "has " + (size - expected) + " bytes after its payload");
      }
      if (payloadCrc(ch) != h.payloadCrc()) {
        throw new DamagedStateFileException(file, "fails its payload checksum (CRC32C)");
      }
      return h;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read state file " + file, e);
    }
  }

  /**
   * Decodes the entries of a file that {@link #verify} accepted with {@code header}.
   *
   * @throws DamagedStateFileException when the entries do not match the header (a bug or a change
   *     of the file after verification)
   */
  static void read(Path file, StateFileHeader header, EntryConsumer consumer)
      throws DamagedStateFileException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(StateFileHeader.LENGTH);
      InputStream raw = Channels.newInputStream(ch);
      DataInputStream in = new DataInputStream(new BufferedInputStream(raw, BUFFER));
      long remaining = header.payloadLength();
      boolean delta = header.kind() == StateFileHeader.Kind.DELTA;
      for (long i = 0; i < header.entries(); i++) {
        byte op = delta ? in.readByte() : StateFileWriter.OP_PUT;
        remaining -= delta ? 1 : 0;
        byte[] key = bytes(file, in, remaining);
        remaining -= 4L + key.length;
        if (op == StateFileWriter.OP_PUT) {
          byte[] value = bytes(file, in, remaining);
          remaining -= 4L + value.length;
          consumer.put(key, value);
        } else if (op == StateFileWriter.OP_REMOVE) {
          consumer.remove(key);
        } else {
          throw new DamagedStateFileException(file, "has an unknown entry type " + op);
        }
      }
      if (remaining != 0) {
        throw new DamagedStateFileException(
            file, "has " + remaining + " payload bytes not accounted for by its entries");
      }
    } catch (EOFException e) {
      throw new DamagedStateFileException(file, "ends inside an entry");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read state file " + file, e);
    }
  }

  private static byte[] bytes(Path file, DataInputStream in, long remaining)
      throws IOException, DamagedStateFileException {
    int length = in.readInt();
    if (length < 0 || length > remaining - 4) {
      throw new DamagedStateFileException(file, "has an entry of impossible length " + length);
    }
    byte[] b = new byte[length];
    in.readFully(b);
    return b;
  }

  private static int payloadCrc(FileChannel ch) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(BUFFER, Math.max(1, ch.size())));
    long pos = StateFileHeader.LENGTH;
    int n;
    while ((n = ch.read(buf, pos)) > 0) {
      pos += n;
      buf.flip();
      crc.update(buf);
      buf.clear();
    }
    return (int) crc.getValue();
  }
}
