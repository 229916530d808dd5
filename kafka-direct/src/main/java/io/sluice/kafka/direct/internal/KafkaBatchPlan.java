package io.sluice.kafka.direct.internal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StreamOffsets;
import java.util.List;
import java.util.Objects;

/**
 * One batch's plan for a direct stream, written to the batch log before the batch runs (Jackson):
 * the stream's group and the pinned range of every partition it reads, sorted by topic and
 * partition. Implements {@link StreamOffsets} so a transactional sink can commit these offsets in
 * its own transaction.
 *
 * @param group the consumer group (offset store key)
 * @param ranges one range per topic-partition, possibly empty
 * @param last whether this batch reaches the end of a bounded replay
 */
public record KafkaBatchPlan(
    String group,
    // OffsetRange's isEmpty() reads as a bean property "empty": never write it, tolerate it on read.
    @JsonIgnoreProperties(value = {"empty"}, ignoreUnknown = true) List<OffsetRange> ranges,
    boolean last) implements StreamOffsets {

  /** Validates and copies the ranges. */
  public KafkaBatchPlan {
    Objects.requireNonNull(group, "group");
    ranges = List.copyOf(Objects.requireNonNull(ranges, "ranges"));
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
