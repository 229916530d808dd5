package io.sluice.kafka.receiver.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;

/**
 * A Kafka record as a receiver stores it: its position and the exact bytes the broker returned, not
 * yet deserialized, so that the write-ahead log holds what Kafka held and the user's deserializers
 * run in the tasks. Equality compares the bytes.
 *
 * @param topic the topic
 * @param partition the partition
 * @param offset the record's offset
 * @param timestamp the record's timestamp, or -1
 * @param timestampType what the timestamp means
 * @param key the key bytes, or null
 * @param value the value bytes, or null
 * @param headers the headers, in order
 */
public record ReceivedRecord(
    String topic,
    int partition,
    long offset,
    long timestamp,
    TimestampType timestampType,
    byte[] key,
    byte[] value,
    List<Header> headers) {

  /** Copies the header list; the byte arrays are taken as they are (the consumer gave them). */
  public ReceivedRecord {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(timestampType, "timestampType");
    headers = List.copyOf(headers);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReceivedRecord r
        && partition == r.partition
        && offset == r.offset
        && timestamp == r.timestamp
        && topic.equals(r.topic)
        && timestampType == r.timestampType
        && Arrays.equals(key, r.key)
        && Arrays.equals(value, r.value)
        && headers.equals(r.headers);
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(topic, partition, offset, timestamp, timestampType, headers);
    return 31 * (31 * h + Arrays.hashCode(key)) + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return topic
        + "-"
        + partition
        + "@"
        + offset
        + " (key "
        + (key == null ? "null" : key.length + " bytes")
        + ", value "
        + (value == null ? "null" : value.length + " bytes")
        + ", "
        + headers.size()
        + " headers)";
  }
}
