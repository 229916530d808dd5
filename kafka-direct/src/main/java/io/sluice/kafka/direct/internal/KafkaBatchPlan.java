package io.sluice.kafka.direct.internal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StreamOffsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * One batch's plan for a direct stream, written to the batch log before the batch runs (Jackson):
 * the stream's group and the pinned range of every partition it reads, sorted by topic and
 * partition. Implements {@link StreamOffsets} so a transactional sink can commit these offsets in
 * its own transaction.
 *
 * @param group the consumer group (offset store key)
 * @param ranges one range per topic-partition, possibly empty
 * @param last whether this batch reaches the end of a bounded replay
 * @param skipped partitions whose range does not begin at the stream's previous position because
 *     the offsets between were lost and skipped under {@code DataLossPolicy.SKIP}, with that
 *     position; empty (and absent from the JSON) for an ordinary batch
 */
public record KafkaBatchPlan(
    String group,
    // OffsetRange's isEmpty() reads as a bean property "empty": never write it, tolerate it on
    // read.
    @JsonIgnoreProperties(
            value = {"empty"},
            ignoreUnknown = true)
        List<OffsetRange> ranges,
    boolean last,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Skip> skipped)
    implements StreamOffsets {

  /**
   * A partition whose range begins past (or before) where the stream stood, because its offsets
   * were lost.
   *
   * @param topic the topic
   * @param partition the partition
   * @param from the stream's position before the skip: where the committed position stands
   */
  public record Skip(String topic, int partition, long from) {}

  /** A plan whose every range begins where the stream stood. */
  public KafkaBatchPlan(String group, List<OffsetRange> ranges, boolean last) {
    this(group, ranges, last, List.of());
  }

  /** Validates and copies the ranges. */
  public KafkaBatchPlan {
    Objects.requireNonNull(group, "group");
    ranges = List.copyOf(Objects.requireNonNull(ranges, "ranges"));
    skipped = skipped == null ? List.of() : List.copyOf(skipped);
  }

  @Override
  public Map<TopicPartition, Long> committedFrom() {
    Map<TopicPartition, Long> out = new HashMap<>();
    skipped.forEach(s -> out.put(new TopicPartition(s.topic(), s.partition()), s.from()));
    return out;
  }

  @Override
  public List<OffsetRange> offsetRanges() {
    return ranges;
  }

  /** The number of offsets the plan covers (an upper bound on its records). */
  public long offsetCount() {
    long n = 0;
    for (OffsetRange r : ranges) {
      n += r.count();
    }
    return n;
  }
}
