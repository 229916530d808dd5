package io.sluice.engine.internal.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.engine.CheckpointException;
import io.sluice.engine.internal.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only file of JSON entries, one per line, each prefixed by the CRC32C of its JSON:
 * {@code <8 hex digits> <json>\n}. Human-readable, yet a torn or corrupt last line (a crash in the
 * middle of an append) is detected, ignored with a warning and cut off before the next append.
 * Corruption before the last line is not a crash artefact and fails loudly.
 *
 * <p>Every entry carries {@code "version"}; an entry newer than {@link #FORMAT_VERSION} is refused,
 * so an old Sluice never misreads a checkpoint written by a newer one.
 *
 * <p>Not thread-safe: the job generator thread owns it.
 */
final class CheckedLog {

  /** The newest entry format this code reads and the one it writes. */
  static final int FORMAT_VERSION = 1;

  private static final Logger LOG = LoggerFactory.getLogger(CheckedLog.class);
  private static final HexFormat HEX = HexFormat.of();

  private final Path file;
  private final ObjectMapper mapper;
  private final boolean fsync;

  CheckedLog(Path file, ObjectMapper mapper, boolean fsync) {
    this.file = file;
    this.mapper = mapper;
    this.fsync = fsync;
  }

  Path file() {
    return file;
  }

  /**
   * Reads every valid entry. A bad last line is dropped from the file so later appends follow the
   * last good entry.
   */
  List<ObjectNode> readAndRepair() {
    if (!Files.exists(file)) {
      return List.of();
    }
    byte[] bytes = readBytes();
    List<ObjectNode> entries = new ArrayList<>();
    int pos = 0;
    int lineNo = 0;
    while (pos < bytes.length) {
      lineNo++;
      int end = indexOf(bytes, (byte) '\n', pos);
      boolean last = end < 0 || end == bytes.length - 1;
      ObjectNode entry = end < 0 ? null : parse(bytes, pos, end);
      if (entry == null) {
        if (!last) {
          throw new CheckpointException(
              "checkpoint file "
                  + file
                  + " is corrupt at line "
                  + lineNo
                  + " (byte "
                  + pos
                  + "), before its last entry; it was not written by an interrupted append."
                  + " Restore it from a backup or remove the checkpoint directory to start from the offset store");
        }
        LOG.warn(
            "Ignoring a torn or corrupt last entry in {} at line {} (byte {}): left by a crash during an append",
            file,
            lineNo,
            pos);
        truncate(pos);
        break;
      }
      int version = entry.path("version").asInt(-1);
      if (version > FORMAT_VERSION) {
        throw new CheckpointException(
            "checkpoint file "
                + file
                + " line "
                + lineNo
                + " has format version "
                + version
                + ", newer than the "
                + FORMAT_VERSION
                + " this Sluice reads; run a newer Sluice");
      }
      if (version < 1) {
        throw new CheckpointException(
            "checkpoint file " + file + " line " + lineNo + " has no valid format version");
      }
      entries.add(entry);
      pos = end + 1;
    }
    return entries;
  }

  /** Appends one entry and, when configured, forces it to disk before returning. */
  void append(ObjectNode entry) {
    entry.put("version", FORMAT_VERSION);
    byte[] line = encode(entry);
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer buf = ByteBuffer.wrap(line);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      if (fsync) {
        ch.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to checkpoint file " + file, e);
    }
  }

  /** Replaces the whole file with {@code entries}, atomically (temp file, fsync, rename). */
  void rewrite(List<ObjectNode> entries) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      for (ObjectNode entry : entries) {
        ByteBuffer buf = ByteBuffer.wrap(encode(entry));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
      if (fsync) {
        ch.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint file " + tmp, e);
    }
    DurableFiles.move(tmp, file);
    if (fsync) {
      DurableFiles.forceDirectory(file.getParent());
    }
  }

  private byte[] encode(ObjectNode entry) {
    try {
      byte[] json = mapper.writeValueAsBytes(entry);
      String crc = HEX.toHexDigits((int) crc(json, 0, json.length));
      byte[] line = new byte[crc.length() + 1 + json.length + 1];
      System.arraycopy(crc.getBytes(StandardCharsets.US_ASCII), 0, line, 0, crc.length());
      line[crc.length()] = ' ';
      System.arraycopy(json, 0, line, crc.length() + 1, json.length);
      line[line.length - 1] = '\n';
      return line;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode checkpoint entry", e);
    }
  }

  /**
   * Parses {@code bytes[start, end)}; null when the line is torn, malformed or fails its checksum.
   */
  private ObjectNode parse(byte[] bytes, int start, int end) {
    int jsonStart = start + 9;
    if (end - start < 10 || bytes[start + 8] != ' ') {
      return null;
    }
    long expected;
    try {
      expected = Long.parseLong(new String(bytes, start, 8, StandardCharsets.US_ASCII), 16);
    } catch (NumberFormatException e) {
      return null;
    }
    if (crc(bytes, jsonStart, end - jsonStart) != expected) {
      return null;
    }
    try {
      JsonNode node = mapper.readTree(bytes, jsonStart, end - jsonStart);
      return node instanceof ObjectNode obj ? obj : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static long crc(byte[] bytes, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, off, len);
    return crc.getValue();
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private byte[] readBytes() {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint file " + file, e);
    }
  }

  private void truncate(long size) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
      if (fsync) {
        ch.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot cut the torn tail of checkpoint file " + file, e);
    }
  }
}
