package io.sluice.it.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.kafka.common.TopicPartition;

/**
 * What a reliable Kafka receiver's write-ahead log holds, read from its segment files while no
 * pipeline runs: for each partition, the highest offset of a record in an intact block.
 *
 * <p>An independent reader of the documented formats, because the engine's {@code WriteAheadLog}
 * and the receiver's {@code ReceivedRecordSerde} are internal to their modules (the layering test
 * forbids {@code it} to import them, and the serde is package-private), and because {@code
 * WriteAheadLog.open} is no reader: it repairs the newest segment and starts a new one, changing
 * the directory the next run recovers. The formats read:
 *
 * <ul>
 *   <li>segment {@code <id, 20 digits>.wal}: a 32-byte header (magic {@code SLWL}, format version
 *       1), then records of {@code length, CRC32C of the payload, CRC32C of those 8 bytes} and the
 *       payload, then a seal once closed (length -1), big-endian;
 *   <li>a payload is one block: the record count, then each record's length and bytes;
 *   <li>a record (version 1): version byte, topic length and UTF-8 bytes, partition, offset, ...
 * </ul>
 *
 * Reading stops at the first record that is incomplete or fails a checksum, as the engine cuts a
 * torn tail: a record the engine would not replay never counts. Stopping early can only lower what
 * the log is said to hold, so a check that offsets are not ahead of it never passes by a misread.
 * Every segment but the newest must end with its seal (the engine seals the newest one at the next
 * start, before it creates another); {@link #anomalies()} names those that do not.
 */
final class ReceiverWalContents {

  private static final int MAGIC = 0x534C574C;
  private static final int HEADER = 32;
  private static final int RECORD_HEADER = 12;

  private final Map<TopicPartition, Long> maxOffsets =
      new TreeMap<>(
          Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
  private final List<String> anomalies = new ArrayList<>();
  private int segments;
  private long blocks;
  private long records;
  private boolean tornTail;

  private ReceiverWalContents() {}

  /** Reads every segment in {@code walDir}; an absent directory holds nothing. */
  static ReceiverWalContents read(Path walDir) {
    ReceiverWalContents c = new ReceiverWalContents();
    if (!Files.isDirectory(walDir)) {
      return c;
    }
    List<Path> files;
    try (Stream<Path> list = Files.list(walDir)) {
      files =
          list.filter(f -> f.getFileName().toString().matches("\\d{20}\\.wal")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + walDir, e);
    }
    for (int i = 0; i < files.size(); i++) {
      c.readSegment(files.get(i), i == files.size() - 1);
    }
    return c;
  }

  /**
   * The highest offset of a record in the log, per partition; partitions without one are absent.
   */
  Map<TopicPartition, Long> maxOffsets() {
    return maxOffsets;
  }

  /** Segment files read. */
  int segments() {
    return segments;
  }

  /** Intact blocks read. */
  long blocks() {
    return blocks;
  }

  /** Records in the intact blocks. */
  long records() {
    return records;
  }

  /** Whether the newest segment ends in an incomplete record, which the next start cuts. */
  boolean tornTail() {
    return tornTail;
  }

  /** Segments other than the newest that end without their seal, or other damage; empty if none. */
  List<String> anomalies() {
    return anomalies;
  }

  private void readSegment(Path file, boolean newest) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    segments++;
    ByteBuffer b = ByteBuffer.wrap(bytes);
    if (bytes.length < HEADER
        || b.getInt(0) != MAGIC
        || b.getShort(4) != 1
        || headerCrc(bytes) != b.getInt(8)) {
      // Segments are created under a temporary name and renamed once their header is on disk.
      anomalies.add(file.getFileName() + ": no valid segment header (" + bytes.length + " bytes)");
      return;
    }
    int pos = HEADER;
    while (true) {
      if (bytes.length - pos < RECORD_HEADER || crc(bytes, pos, 8) != b.getInt(pos + 8)) {
        break; // torn or damaged record header
      }
      int length = b.getInt(pos);
      if (length == -1) {
        return; // the seal
      }
      if (length < 0 || bytes.length - pos - RECORD_HEADER < length) {
        break; // torn payload
      }
      if (crc(bytes, pos + RECORD_HEADER, length) != b.getInt(pos + 4)) {
        break; // torn payload (the last one written)
      }
      readBlock(file, ByteBuffer.wrap(bytes, pos + RECORD_HEADER, length).slice());
      pos += RECORD_HEADER + length;
    }
    if (!newest) {
      anomalies.add(file.getFileName() + ": not the newest segment, but no seal after byte " + pos);
    } else if (pos < bytes.length) {
      tornTail = true; // a kill during an append: the next start cuts it
    }
  }

  private void readBlock(Path file, ByteBuffer block) {
    int count = block.getInt();
    for (int i = 0; i < count; i++) {
      int length = block.getInt();
      ByteBuffer r = block.slice(block.position(), length);
      block.position(block.position() + length);
      if (r.get() != 1) {
        anomalies.add(file.getFileName() + ": a record of format version " + r.get(0));
        continue;
      }
      byte[] topic = new byte[r.getInt()];
      r.get(topic);
      int partition = r.getInt();
      long offset = r.getLong();
      maxOffsets.merge(
          new TopicPartition(new String(topic, StandardCharsets.UTF_8), partition),
          offset,
          Math::max);
      records++;
    }
    blocks++;
  }

  /** The segment header's CRC32C, over bytes [0, 8) and [12, 32). */
  private static int headerCrc(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, 8);
    crc.update(bytes, 12, HEADER - 12);
    return (int) crc.getValue();
  }

  private static int crc(byte[] bytes, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, off, len);
    return (int) crc.getValue();
  }
}
