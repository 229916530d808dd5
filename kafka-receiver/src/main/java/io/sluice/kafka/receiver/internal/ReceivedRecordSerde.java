package io.sluice.kafka.receiver.internal;

import io.sluice.engine.state.StateSerde;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;

/**
 * The binary form of a {@link ReceivedRecord} in the receiver's write-ahead log: a format version
 * byte ({@value #VERSION}), then the topic (length and UTF-8), partition, offset, timestamp,
 * timestamp type id, key and value (length, -1 for null, then the bytes), and the headers (count,
 * then each key and value the same way). Bytes are copied exactly, so a record read back from the
 * log deserializes as the one Kafka returned. Stateless and thread-safe.
 */
final class ReceivedRecordSerde implements StateSerde<ReceivedRecord> {

  /** The format version this class writes and reads. */
  static final byte VERSION = 1;

  private static final ReceivedRecordSerde INSTANCE = new ReceivedRecordSerde();

  private ReceivedRecordSerde() {}

  /** The serde. */
  static ReceivedRecordSerde instance() {
    return INSTANCE;
  }

  @Override
  public byte[] serialize(ReceivedRecord r) {
    byte[] topic = r.topic().getBytes(StandardCharsets.UTF_8);
    List<byte[]> headerKeys = new ArrayList<>(r.headers().size());
    long size = 1 + 4 + topic.length + 4 + 8 + 8 + 1 + sizeOf(r.key()) + sizeOf(r.value()) + 4;
    for (Header h : r.headers()) {
      byte[] k = h.key().getBytes(StandardCharsets.UTF_8);
      headerKeys.add(k);
      size += 4 + k.length + sizeOf(h.value());
    }
    if (size > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException("record " + r + " is " + size + " bytes, over 2 GiB");
    }
    ByteBuffer b = ByteBuffer.allocate((int) size);
    b.put(VERSION);
    b.putInt(topic.length).put(topic);
    b.putInt(r.partition()).putLong(r.offset()).putLong(r.timestamp());
    b.put((byte) r.timestampType().id);
    putBytes(b, r.key());
    putBytes(b, r.value());
    b.putInt(r.headers().size());
    for (int i = 0; i < headerKeys.size(); i++) {
      b.putInt(headerKeys.get(i).length).put(headerKeys.get(i));
      putBytes(b, r.headers().get(i).value());
    }
    return b.array();
  }

  @Override
  public ReceivedRecord deserialize(byte[] bytes) {
    if (bytes.length == 0 || bytes[0] != VERSION) {
      throw new IllegalStateException(
          "a Kafka receiver record in the write-ahead log has format version "
              + (bytes.length == 0 ? "(none: empty)" : bytes[0])
              + ", this version of Sluice reads "
              + VERSION
              + (bytes.length > 0 && bytes[0] > VERSION ? " (written by a newer Sluice)" : ""));
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 1, bytes.length - 1);
    try {
      String topic = new String(getBytes(b, false), StandardCharsets.UTF_8);
      int partition = b.getInt();
      long offset = b.getLong();
      long timestamp = b.getLong();
      TimestampType type = timestampType(b.get());
      byte[] key = getBytes(b, true);
      byte[] value = getBytes(b, true);
      int n = b.getInt();
      if (n < 0) {
        throw new IllegalStateException("negative header count " + n);
      }
      List<Header> headers = new ArrayList<>(Math.min(n, 64));
      for (int i = 0; i < n; i++) {
        String k = new String(getBytes(b, false), StandardCharsets.UTF_8);
        headers.add(new RecordHeader(k, getBytes(b, true)));
      }
      if (b.hasRemaining()) {
        throw new IllegalStateException(b.remaining() + " bytes left after the record");
      }
      return new ReceivedRecord(topic, partition, offset, timestamp, type, key, value, headers);
    } catch (BufferUnderflowException | IllegalArgumentException | IllegalStateException e) {
      throw new IllegalStateException(
          "a Kafka receiver record in the write-ahead log is malformed ("
              + bytes.length
              + " bytes): "
              + e.getMessage(),
          e);
    }
  }

  private static TimestampType timestampType(byte id) {
    for (TimestampType t : TimestampType.values()) {
      if (t.id == id) {
        return t;
      }
    }
    throw new IllegalStateException("unknown timestamp type id " + id);
  }

  private static int sizeOf(byte[] bytes) {
    return 4 + (bytes == null ? 0 : bytes.length);
  }

  private static void putBytes(ByteBuffer b, byte[] bytes) {
    if (bytes == null) {
      b.putInt(-1);
    } else {
      b.putInt(bytes.length).put(bytes);
    }
  }

  private static byte[] getBytes(ByteBuffer b, boolean nullable) {
    int n = b.getInt();
    if (n == -1 && nullable) {
      return null;
    }
    if (n < 0 || n > b.remaining()) {
      throw new IllegalStateException("length " + n + " with " + b.remaining() + " bytes left");
    }
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }
}
