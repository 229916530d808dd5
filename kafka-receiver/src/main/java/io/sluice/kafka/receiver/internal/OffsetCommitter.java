package io.sluice.kafka.receiver.internal;

import io.sluice.offsets.OffsetRange;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a Kafka receiver commits the positions its stored blocks reached, and where it reads them
 * back when partitions are assigned. One instance per consumer run; called on the consumer's thread
 * only.
 */
interface OffsetCommitter {

  /**
   * Moves {@code consumer} to the committed position of each of {@code partitions}, just assigned,
   * or to where {@code auto.offset.reset} says for those without one. Blocking.
   */
  void seekAssigned(Consumer<byte[], byte[]> consumer, Collection<TopicPartition> partitions);

  /**
   * Commits the ranges, each from the last committed position to the position its stored blocks
   * reached; returns once they are durable in the committer's place. Blocking.
   *
   * @throws RuntimeException when the commit failed; nothing of it may be assumed committed
   */
  void commit(Consumer<byte[], byte[]> consumer, List<OffsetRange> ranges);

  /**
   * Whether {@code failure} of {@link #commit} may pass: the ranges stay uncommitted and are tried
   * again after the next poll (a Kafka group in the middle of a rebalance); otherwise the receiver
   * restarts.
   */
  boolean retryLater(RuntimeException failure);

  /** Where the offsets go, for messages. */
  String describe();
}
