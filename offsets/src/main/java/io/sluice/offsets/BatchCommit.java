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
 * @param shared whether the group's partitions are shared among processes (group mode): each
 *     process numbers its batches itself, so the commit is fenced by its offsets only, never
 *     refused as stale for its batch id, and a store that keeps a history numbers the entry after
 *     the group's last one when the process's id is not above it. Only the JDBC store accepts
 *     shared commits.
 */
public record BatchCommit(
    String group,
    long batchId,
    Instant batchTime,
    List<OffsetRange> ranges,
    Map<TopicPartition, Long> expectedFrom,
    boolean shared) {

  /** A commit whose every range begins at the committed position. */
  public BatchCommit(String group, long batchId, Instant batchTime, List<OffsetRange> ranges) {
    this(group, batchId, batchTime, ranges, Map.of(), false);
  }

  /** A commit of a group whose partitions one process owns. */
  public BatchCommit(
      String group,
      long batchId,
      Instant batchTime,
      List<OffsetRange> ranges,
      Map<TopicPartition, Long> expectedFrom) {
    this(group, batchId, batchTime, ranges, expectedFrom, false);
  }

  /** This commit, of a group whose partitions are shared among processes (group mode). */
  public BatchCommit asShared() {
    return new BatchCommit(group, batchId, batchTime, ranges, expectedFrom, true);
  }

  /** This commit under another batch id. */
  public BatchCommit withBatchId(long id) {
    return new BatchCommit(group, id, batchTime, ranges, expectedFrom, shared);
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
