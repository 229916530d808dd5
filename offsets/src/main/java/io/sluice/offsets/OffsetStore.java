package io.sluice.offsets;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a stream's offsets are kept between batches and across restarts, with the history of the
 * batches that moved them. Built through {@link OffsetStores}.
 *
 * <p>Contract shared by every store:
 *
 * <ul>
 *   <li>{@link #commit(BatchCommit)} is atomic across its ranges: afterwards either every range's
 *       partition stands at its {@code untilOffset}, or nothing changed.
 *   <li>Commits are fenced by offsets: a commit is accepted only if, for every range whose
 *       partition the store already holds, the stored next offset equals the range's {@code
 *       fromOffset}; otherwise it is refused with {@link OffsetFencedException} and nothing
 *       changes. A partition the store has never committed is accepted from any offset. The check
 *       and the write are one atomic step, so two drivers of a group cannot both move a partition
 *       from the same position, and a driver cannot overwrite a reset made since it planned its
 *       batch.
 *   <li>Commits are monotonic per group: a batch id at or below the last committed one is refused
 *       with {@link StaleBatchException} (checked before the offsets), which lets a replayed batch
 *       recognise that it is already done. Batch ids key the history; the offsets are the fence.
 *   <li>{@link #reset} is the only write that moves a position arbitrarily: it is an operator's
 *       override and skips the offset check.
 *   <li>Methods may be called from any thread; a store serialises its own writes.
 * </ul>
 */
public interface OffsetStore extends AutoCloseable {

  /**
   * The committed next offsets of {@code group} for the given partitions; partitions the group
   * never committed are absent from the result. Blocking.
   */
  Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> partitions);

  /** Every committed next offset of {@code group}, across all topics. Blocking. */
  Map<TopicPartition, Long> committed(String group);

  /** The highest batch id committed for {@code group}, or empty when none. Blocking. */
  OptionalLong lastBatchId(String group);

  /**
   * Commits one batch's offsets atomically, if every range begins where the store stands. Blocking;
   * returns once durable.
   *
   * @throws StaleBatchException when the group already holds a batch id at or above this one
   * @throws OffsetFencedException when the store holds a next offset for a range's partition other
   *     than the range's {@code fromOffset} (the first such partition, by topic then partition)
   * @throws OffsetStoreException when the store cannot be reached or written
   */
  void commit(BatchCommit commit);

  /** Up to {@code limit} committed batches of {@code group}, newest first. Blocking. */
  List<BatchCommit> history(String group, int limit);

  /**
   * The committed batch {@code batchId} of {@code group}, or empty when the history does not hold
   * it (never committed, or dropped by the store's history retention). Blocking. Stores override
   * the default, which scans {@link #history(String, int)}.
   */
  default Optional<BatchCommit> batch(String group, long batchId) {
    return history(group, Integer.MAX_VALUE).stream()
        .filter(c -> c.batchId() == batchId)
        .findFirst();
  }

  /**
   * Sets the positions of {@code group} outside the batch protocol (the {@code sluice offsets
   * reset} and {@code import} commands). Recorded in the history as a batch with the next batch id
   * and an empty range {@code [p, p)} per partition. The only write that moves a position
   * arbitrarily: it skips the offset check of {@link #commit}, and a driver's commit planned before
   * the reset is refused afterwards with {@link OffsetFencedException}, since its ranges begin
   * where the old positions were. Blocking.
   */
  void reset(String group, Map<TopicPartition, Long> positions);

  /**
   * Declares the caller the one committer of {@code group} from now on. A store that can fence (the
   * Kafka store, through its transactional id) fences earlier committers of the group here and
   * aborts a commit a crashed run left open, so the reads that follow need not wait for the broker
   * to time it out. An input stream calls it once at start, before reading the group's positions;
   * tools that only read (the command line) do not. Blocking. Default: nothing to do.
   */
  default void claim(String group) {}

  /**
   * Identifies the place this store writes offsets to: two stores, or a store and a transactional
   * sink, with equal locations write the same progress. Default: this store instance. The Kafka
   * store returns {@link KafkaGroupOffsets#clusterKey(Object)} of its cluster, the place the
   * exactly-once Kafka sink commits to.
   */
  default Object location() {
    return this;
  }

  /** A short description for messages, e.g. {@code kafka(localhost:9092)}. */
  String describe();

  /** Releases the store's connections; idempotent. */
  @Override
  void close();
}
