package io.sluice.offsets;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * The half-open range {@code [fromOffset, untilOffset)} of one topic-partition: what one batch
 * reads from it. A range is a position interval, not a record count: compaction and transaction
 * markers may leave fewer records than {@link #count()} inside it.
 *
 * @param topic the topic name, never blank
 * @param partition the partition number, {@code >= 0}
 * @param fromOffset the first offset of the range, inclusive, {@code >= 0}
 * @param untilOffset the end of the range, exclusive, {@code >= fromOffset}
 */
public record OffsetRange(String topic, int partition, long fromOffset, long untilOffset) {

  /** Validates the range; every message names the offending field and value. */
  public OffsetRange {
    Objects.requireNonNull(topic, "topic must not be null");
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank");
    }
    if (partition < 0) {
      throw new IllegalArgumentException(
          "partition must be >= 0, was " + partition + " for topic " + topic);
    }
    if (fromOffset < 0) {
      throw new IllegalArgumentException(
          "fromOffset must be >= 0, was " + fromOffset + " for " + topic + "-" + partition);
    }
    if (untilOffset < fromOffset) {
      throw new IllegalArgumentException(
          "untilOffset must be >= fromOffset, was ["
              + fromOffset
              + ", "
              + untilOffset
              + ") for "
              + topic
              + "-"
              + partition);
    }
  }

  /** Creates a range for a Kafka {@link TopicPartition}. */
  public static OffsetRange of(TopicPartition tp, long fromOffset, long untilOffset) {
    return new OffsetRange(tp.topic(), tp.partition(), fromOffset, untilOffset);
  }

  /** The topic-partition this range belongs to. */
  public TopicPartition topicPartition() {
    return new TopicPartition(topic, partition);
  }

  /** The number of offsets in the range, {@code untilOffset - fromOffset}. */
  public long count() {
    return untilOffset - fromOffset;
  }

  /** Whether the range holds no offsets. */
  @JsonIgnore
  public boolean isEmpty() {
    return untilOffset == fromOffset;
  }

  @Override
  public String toString() {
    return topic + "-" + partition + " [" + fromOffset + ", " + untilOffset + ")";
  }
}
