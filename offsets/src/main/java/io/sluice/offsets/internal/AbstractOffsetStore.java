package io.sluice.offsets.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.TopicPartition;

/**
 * What every store shares: argument checks, the closed state, the offset check and {@link #reset}
 * as a commit without it. A store implements {@link #doCommit}.
 */
public abstract class AbstractOffsetStore implements OffsetStore {

  private static final int RESET_ATTEMPTS = 5;
  private static final Comparator<TopicPartition> PARTITION_ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  private final AtomicBoolean closed = new AtomicBoolean();
  private final Clock clock;

  /** Creates the store with the clock that stamps resets. */
  protected AbstractOffsetStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Throws once the store is closed. */
  protected final void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException(describe() + " is closed");
    }
  }

  /** Validates a group argument. */
  protected static String checkGroup(String group) {
    Objects.requireNonNull(group, "group must not be null");
    if (group.isBlank()) {
      throw new IllegalArgumentException("group must not be blank");
    }
    return group;
  }

  /** Validates a history limit. */
  protected static int checkLimit(int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be > 0, was " + limit);
    }
    return limit;
  }

  @Override
  public Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> partitions) {
    Objects.requireNonNull(partitions, "partitions must not be null");
    Map<TopicPartition, Long> all = committed(group);
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    for (TopicPartition tp : partitions) {
      Long offset = all.get(tp);
      if (offset != null) {
        result.put(tp, offset);
      }
    }
    return result;
  }

  /**
   * Checks the commit and the store state, then commits with the offset check; see {@link
   * OffsetStore#commit}.
   */
  @Override
  public final void commit(BatchCommit commit) {
    doCommit(checkCommit(commit), true);
  }

  /**
   * Records the positions as the group's next batch, with an empty range {@code [p, p)} per
   * partition and without the offset check (an operator's override), retrying when a concurrent
   * commit takes the batch id first.
   */
  @Override
  public void reset(String group, Map<TopicPartition, Long> positions) {
    checkGroup(group);
    Objects.requireNonNull(positions, "positions must not be null");
    ensureOpen();
    List<OffsetRange> ranges = new ArrayList<>();
    positions.entrySet().stream()
        .sorted(Map.Entry.comparingByKey(PARTITION_ORDER))
        .forEach(e -> ranges.add(OffsetRange.of(e.getKey(), e.getValue(), e.getValue())));
    StaleBatchException last = null;
    for (int attempt = 0; attempt < RESET_ATTEMPTS; attempt++) {
      long next = lastBatchId(group).orElse(-1L) + 1;
      try {
        doCommit(new BatchCommit(group, next, clock.instant(), ranges), false);
        return;
      } catch (StaleBatchException e) {
        last = e;
      }
    }
    throw new OffsetStoreException(
        "reset of group '"
            + group
            + "' in "
            + describe()
            + " lost the race for a batch id "
            + RESET_ATTEMPTS
            + " times: another driver is committing, stop it first",
        last);
  }

  /**
   * Writes one commit atomically: refuses it with {@link StaleBatchException} when the group holds
   * a batch id at or above it, then, when {@code fenceOffsets}, with {@link OffsetFencedException}
   * (see {@link #checkOffsets}) when a range does not begin at its partition's stored next offset.
   * Both checks and the write are one atomic step. {@code fenceOffsets} is false only for {@link
   * #reset}. Called with a validated commit on an open store.
   */
  protected abstract void doCommit(BatchCommit commit, boolean fenceOffsets);

  /**
   * Refuses {@code commit} with {@link OffsetFencedException} naming the first partition, by topic
   * then partition, that {@code stored} holds at a next offset other than its range's {@code
   * fromOffset}. Partitions absent from {@code stored} (never committed) are accepted.
   *
   * @param stored the group's next offsets, read in the same atomic step as the write that follows
   */
  protected final void checkOffsets(BatchCommit commit, Map<TopicPartition, Long> stored) {
    commit.ranges().stream()
        .sorted(Comparator.comparing(OffsetRange::topicPartition, PARTITION_ORDER))
        .filter(
            r -> {
              Long next = stored.get(r.topicPartition());
              return next != null && next != commit.expectedFrom(r);
            })
        .findFirst()
        .ifPresent(
            r -> {
              throw new OffsetFencedException(
                  describe(),
                  commit.group(),
                  commit.batchId(),
                  r.topicPartition(),
                  commit.expectedFrom(r),
                  stored.get(r.topicPartition()));
            });
  }

  /** Validates a commit and the store state. */
  protected final BatchCommit checkCommit(BatchCommit commit) {
    Objects.requireNonNull(commit, "commit must not be null");
    if (commit.shared() && !acceptsSharedCommits()) {
      throw new IllegalArgumentException(
          describe()
              + " cannot take commits of group '"
              + commit.group()
              + "', whose partitions are shared among processes (group mode): use the JDBC store,"
              + " or keep the progress in the Kafka consumer group");
    }
    ensureOpen();
    return commit;
  }

  /**
   * Whether the store takes {@link BatchCommit#shared()} commits (group mode), fenced by their
   * offsets only. Default: no.
   */
  protected boolean acceptsSharedCommits() {
    return false;
  }

  @Override
  public final void close() {
    if (closed.compareAndSet(false, true)) {
      doClose();
    }
  }

  /** Releases resources; called once. */
  protected abstract void doClose();

  @Override
  public String toString() {
    return describe();
  }
}
