package io.sluice.offsets;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a stream starts reading when it has no batch of its own to continue from. These are
 * descriptions; an input stream resolves them against the broker once, and records the resolved
 * offsets in its first batch's plan, so a restart never re-resolves {@link #latest()}.
 */
public sealed interface StartingOffsets {

  /** The log start of every partition. */
  static StartingOffsets earliest() {
    return new Earliest();
  }

  /** The log end (or, under {@code read_committed}, the last stable offset) of every partition. */
  static StartingOffsets latest() {
    return new Latest();
  }

  /**
   * The first offset whose timestamp is at or after {@code time}; a partition with nothing after it
   * starts at its end.
   */
  static StartingOffsets timestamp(Instant time) {
    return new Timestamp(time);
  }

  /** Exact offsets per partition; partitions not named start at {@code fallback}. */
  static StartingOffsets specific(Map<TopicPartition, Long> offsets, StartingOffsets fallback) {
    return new Specific(offsets, fallback);
  }

  /** Exact offsets per partition; partitions not named start at the earliest offset. */
  static StartingOffsets specific(Map<TopicPartition, Long> offsets) {
    return new Specific(offsets, earliest());
  }

  /**
   * The store's committed offsets for the stream's group; partitions without one use {@code
   * fallback}.
   */
  static StartingOffsets committed(OffsetStore store, StartingOffsets fallback) {
    return new Committed(store, fallback);
  }

  /**
   * Where a saved batch of {@code group} started: each partition at the {@code fromOffset} of its
   * range in batch {@code batchId} of the store's history.
   */
  static StartingOffsets fromBatch(OffsetStore store, String group, long batchId) {
    return new FromBatch(store, group, batchId);
  }

  /**
   * Exactly these ranges, then stop: the stream reads {@code [from, until)} of every partition and
   * the context stops by itself once every partition has reached its {@code until}.
   */
  static StartingOffsets bounded(List<OffsetRange> ranges) {
    return new Bounded(ranges);
  }

  /** See {@link StartingOffsets#earliest()}. */
  record Earliest() implements StartingOffsets {}

  /** See {@link StartingOffsets#latest()}. */
  record Latest() implements StartingOffsets {}

  /** See {@link StartingOffsets#timestamp(Instant)}. @param time the instant to start at */
  record Timestamp(Instant time) implements StartingOffsets {
    /** Validates the instant. */
    public Timestamp {
      Objects.requireNonNull(time, "time must not be null");
    }
  }

  /**
   * See {@link StartingOffsets#specific(Map, StartingOffsets)}. @param offsets per partition @param
   * fallback for others
   */
  record Specific(Map<TopicPartition, Long> offsets, StartingOffsets fallback)
      implements StartingOffsets {
    /** Validates and copies the offsets. */
    public Specific {
      offsets = Map.copyOf(Objects.requireNonNull(offsets, "offsets must not be null"));
      offsets.forEach(
          (tp, o) -> {
            if (o < 0) {
              throw new IllegalArgumentException("offset for " + tp + " must be >= 0, was " + o);
            }
          });
      Objects.requireNonNull(fallback, "fallback must not be null");
    }
  }

  /**
   * See {@link StartingOffsets#committed(OffsetStore, StartingOffsets)}. @param store the
   * store @param fallback for partitions without a commit
   */
  record Committed(OffsetStore store, StartingOffsets fallback) implements StartingOffsets {
    /** Validates the arguments. */
    public Committed {
      Objects.requireNonNull(store, "store must not be null");
      Objects.requireNonNull(fallback, "fallback must not be null");
    }
  }

  /**
   * See {@link StartingOffsets#fromBatch(OffsetStore, String, long)}. @param store the store @param
   * group the group @param batchId the saved batch
   */
  record FromBatch(OffsetStore store, String group, long batchId) implements StartingOffsets {
    /** Validates the arguments. */
    public FromBatch {
      Objects.requireNonNull(store, "store must not be null");
      Objects.requireNonNull(group, "group must not be null");
      if (batchId < 0) {
        throw new IllegalArgumentException("batchId must be >= 0, was " + batchId);
      }
    }
  }

  /** See {@link StartingOffsets#bounded(List)}. @param ranges the ranges to read, then stop */
  record Bounded(List<OffsetRange> ranges) implements StartingOffsets {
    /** Validates and copies the ranges. */
    public Bounded {
      ranges = List.copyOf(Objects.requireNonNull(ranges, "ranges must not be null"));
      if (ranges.isEmpty()) {
        throw new IllegalArgumentException("bounded ranges must not be empty");
      }
      if (ranges.stream().map(OffsetRange::topicPartition).distinct().count() != ranges.size()) {
        throw new IllegalArgumentException(
            "bounded ranges must hold one range per topic-partition, were " + ranges);
      }
    }
  }
}
