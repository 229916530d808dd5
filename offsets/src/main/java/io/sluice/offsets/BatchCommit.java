package io.sluice.offsets;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One batch's offsets, committed to an {@link OffsetStore} as a unit: after the commit, every
 * range's partition stands at the range's {@code untilOffset}.
 *
 * @param group the consumer group
 * @param batchId the batch id, strictly increasing per group
 * @param batchTime the batch's scheduled time
 * @param ranges the ranges the batch read, at most one per topic-partition
 */
public record BatchCommit(String group, long batchId, Instant batchTime, List<OffsetRange> ranges) {

  /** Validates and copies the ranges. */
  public BatchCommit {
    Objects.requireNonNull(group, "group must not be null");
    if (group.isBlank()) {
      throw new IllegalArgumentException("group must not be blank");
    }
    if (batchId < 0) {
      throw new IllegalArgumentException("batchId must be >= 0, was " + batchId);
    }
    Objects.requireNonNull(batchTime, "batchTime must not be null");
    ranges = List.copyOf(Objects.requireNonNull(ranges, "ranges must not be null"));
    long distinct = ranges.stream().map(OffsetRange::topicPartition).distinct().count();
    if (distinct != ranges.size()) {
      throw new IllegalArgumentException("ranges must hold at most one range per topic-partition, were " + ranges);
    }
  }
}
