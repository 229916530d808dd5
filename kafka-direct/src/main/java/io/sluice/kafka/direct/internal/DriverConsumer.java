package io.sluice.kafka.direct.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * A driver-side consumer for metadata, offsets and consumer-group commits. It never subscribes, so
 * it never joins the group. The planner's one is used by the thread that starts the context
 * (recovery, the start's reset commit) and then by the job-generator thread (planning); the
 * batches' group commits go through a {@link GroupCommitter}, which owns a second one, so that a
 * commit never holds up planning. Calls are serialised all the same. Every call blocks up to the
 * timeout given at construction (the stream's poll timeout) and then throws Kafka's {@code
 * TimeoutException}.
 */
public final class DriverConsumer implements AutoCloseable {

  /** It holds no group membership and commits synchronously, so closing has nothing to wait for. */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private final Consumer<byte[], byte[]> consumer;
  private final Duration timeout;
  private boolean closed;

  /** Takes ownership of {@code consumer}. */
  public DriverConsumer(Consumer<byte[], byte[]> consumer, Duration timeout) {
    this.consumer = consumer;
    this.timeout = timeout;
  }

  /** How long each call may block. */
  public Duration timeout() {
    return timeout;
  }

  /** Every non-internal topic with its partitions. */
  public synchronized Map<String, List<PartitionInfo>> listTopics() {
    return consumer.listTopics(timeout);
  }

  /** The log start offsets. */
  public synchronized Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> tps) {
    return tps.isEmpty() ? Map.of() : consumer.beginningOffsets(tps, timeout);
  }

  /** The end offsets; under {@code isolation.level=read_committed}, the last stable offsets. */
  public synchronized Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> tps) {
    return tps.isEmpty() ? Map.of() : consumer.endOffsets(tps, timeout);
  }

  /** The first offset at or after each timestamp, or null where there is none. */
  public synchronized Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(
      Map<TopicPartition, Long> times) {
    return times.isEmpty() ? Map.of() : consumer.offsetsForTimes(times, timeout);
  }

  /** The consumer group's committed offsets; partitions without one are absent. */
  public synchronized Map<TopicPartition, Long> committed(Set<TopicPartition> tps) {
    return committed(tps, timeout);
  }

  /**
   * The consumer group's stable committed offsets, waiting at most {@code max} for offsets pending
   * in a transaction; partitions without one are absent.
   *
   * @throws TimeoutException naming the group, the partitions and the likely causes
   */
  public synchronized Map<TopicPartition, Long> committed(Set<TopicPartition> tps, Duration max) {
    Map<TopicPartition, Long> out = new HashMap<>();
    if (!tps.isEmpty()) {
      Map<TopicPartition, OffsetAndMetadata> read;
      try {
        read = consumer.committed(tps, max);
      } catch (TimeoutException e) {
        throw new TimeoutException(
            "the committed offsets of group '"
                + consumer.groupMetadata().groupId()
                + "' for "
                + new TreeSet<>(tps.stream().map(TopicPartition::toString).toList())
                + " could not be read within "
                + max.toMillis()
                + " ms: the group coordinator did not answer, or another writer's open transaction"
                + " holds offsets of these partitions pending (it ends when its producer commits or"
                + " aborts, when a producer with the same transactional.id starts, or when its"
                + " transaction.timeout.ms runs out)",
            e);
      }
      read.forEach(
          (tp, om) -> {
            if (om != null) {
              out.put(tp, om.offset());
            }
          });
    }
    return out;
  }

  /** Commits next offsets to the consumer group, synchronously. */
  public synchronized void commit(Map<TopicPartition, Long> offsets, String metadata) {
    if (offsets.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> om = new HashMap<>();
    offsets.forEach((tp, o) -> om.put(tp, new OffsetAndMetadata(o, metadata)));
    consumer.commitSync(om, timeout);
  }

  /** Closes the consumer, waiting at most 2 s; idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
    }
  }
}
