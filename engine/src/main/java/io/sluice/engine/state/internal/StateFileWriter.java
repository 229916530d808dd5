package io.sluice.engine.state.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes one state file: the payload through a 64 KiB buffer, checksummed as it goes, then the
 * {@link StateFileHeader} at offset 0 once the length and checksum are known, then an optional
 * fsync. Entries are length-prefixed: a delta entry is {@code op(1) keyLength(4) key
 * [valueLength(4) value]} with op 1 = put (with value), 2 = remove (without); a snapshot entry is
 * {@code keyLength(4) key valueLength(4) value}.
 *
 * <p>Writes to whatever path it is given (the caller's temporary file); renaming it into place is
 * the caller's. Not thread-safe; blocks on file I/O.
 */
final class StateFileWriter implements AutoCloseable {

  static final byte OP_PUT = 1;
  static final byte OP_REMOVE = 2;

  private static final int BUFFER = 1 << 16;

  private final Path file;
  private final StateFileHeader.Kind kind;
  private final long version;
  private final FileChannel ch;
  private final ByteBuffer buf = ByteBuffer.allocate(BUFFER);
  private final CRC32C crc = new CRC32C();
  private long payloadLength;
  private long entries;
  private boolean finished;

  private StateFileWriter(Path file, StateFileHeader.Kind kind, long version, FileChannel ch) {
    this.file = file;
    this.kind = kind;
    this.version = version;
    this.ch = ch;
  }

  /** Creates (or truncates) {@code file} and positions after the header. */
  static StateFileWriter create(Path file, StateFileHeader.Kind kind, long version) {
    try {
      FileChannel ch =
          FileChannel.open(
              file,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING);
      ch.position(StateFileHeader.LENGTH);
      return new StateFileWriter(file, kind, version, ch);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create state file " + file, e);
    }
  }

  /** A delta's put of {@code key} to {@code value}. */
  void put(byte[] key, byte[] value) {
    ensure(1);
    buf.put(OP_PUT);
    bytes(key);
    bytes(value);
    entries++;
  }

  /** A delta's removal of {@code key}. */
  void remove(byte[] key) {
    ensure(1);
    buf.put(OP_REMOVE);
    bytes(key);
    entries++;
  }

  /** A snapshot's entry. */
  void entry(byte[] key, byte[] value) {
    bytes(key);
    bytes(value);
    entries++;
  }

  /**
   * Writes the header and, when {@code fsync}, forces the file to disk; closes it.
   *
   * @return the file's length in bytes
   */
  long finish(boolean fsync) {
    try {
      flush();
      ByteBuffer header =
          new StateFileHeader(
                  StateFileHeader.FORMAT_VERSION,
                  kind,
                  version,
                  entries,
                  payloadLength,
                  (int) crc.getValue())
              .encode();
      long pos = 0;
      while (header.hasRemaining()) {
        pos += ch.write(header, pos);
      }
      if (fsync) {
        ch.force(true);
      }
      finished = true;
      ch.close();
      return StateFileHeader.LENGTH + payloadLength;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write state file " + file, e);
    }
  }

  long entries() {
    return entries;
  }

  /** Closes without finishing and deletes the file; for a write abandoned by an error. */
  @Override
  public void close() {
    if (finished) {
      return;
    }
    finished = true;
    try {
      ch.close();
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove abandoned state file " + file, e);
    }
  }

  private void bytes(byte[] b) {
    ensure(4);
    buf.putInt(b.length);
    if (b.length <= buf.remaining()) {
      buf.put(b);
    } else if (b.length < BUFFER) {
      flush();
      buf.put(b);
    } else {
      flush();
      write(ByteBuffer.wrap(b));
    }
  }

  private void ensure(int n) {
    if (buf.remaining() < n) {
      flush();
    }
  }

  private void flush() {
    buf.flip();
    write(buf);
    buf.clear();
  }

  private void write(ByteBuffer b) {
    crc.update(b.array(), b.arrayOffset() + b.position(), b.remaining());
    payloadLength += b.remaining();
    try {
      while (b.hasRemaining()) {
        ch.write(b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write state file " + file, e);
    }
  }
}
