package io.sluice.offsets;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * One batch's offsets, committed to an {@link OffsetStore} as a unit: after the commit, every
 * range's partition stands at the range's {@code untilOffset}.
 *
 * @param group the consumer group
 * @param batchId the batch id, strictly increasing per group
 * @param batchTime the batch's scheduled time
 * @param ranges the ranges the batch read, at most one per topic-partition
 * @param expectedFrom for partitions whose range does not begin where the committed position stood,
 *     because the offsets between were lost and skipped under {@code DataLossPolicy.SKIP}: the
 *     committed next offset the range continues from. The offset fence compares the stored offset
 *     with it instead of the range's start. Empty for every ordinary batch.
 */
public record BatchCommit(
    String group,
    long batchId,
    Instant batchTime,
    List<OffsetRange> ranges,
    Map<TopicPartition, Long> expectedFrom) {

  /** A commit whose every range begins at the committed position. */
  public BatchCommit(String group, long batchId, Instant batchTime, List<OffsetRange> ranges) {
    this(group, batchId, batchTime, ranges, Map.of());
  }

  /** Validates and copies the ranges. */
  public BatchCommit {
    expectedFrom =
        Map.copyOf(Objects.requireNonNull(expectedFrom, "expectedFrom must not be null"));
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
      throw new IllegalArgumentException(
          "ranges must hold at most one range per topic-partition, were " + ranges);
    }
  }

  /**
   * Where the committed position must stand for {@code range} to be committed: its start, or the
   * skipped origin.
   */
  public long expectedFrom(OffsetRange range) {
    return expectedFrom.getOrDefault(range.topicPartition(), range.fromOffset());
  }
}
