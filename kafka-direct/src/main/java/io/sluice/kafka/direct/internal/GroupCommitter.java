package io.sluice.kafka.direct.internal;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Commits a direct stream's batches to its Kafka consumer group on a consumer of its own, created
 * at the first commit, so that a commit waiting for the group coordinator never holds up the
 * planning of the next batch, which uses the planner's {@link DriverConsumer}. Like that one, it
 * never subscribes, so it never joins the group, and each call gives up after the timeout given at
 * construction.
 *
 * <p>Threads: {@link #committed} and {@link #commit} on the job-scheduler thread (a batch's commit,
 * and the offsets queued by {@code commitAsync}); {@link #close} from the stream's stop, once the
 * scheduler has ended. The calls are serialised, so a close racing a commit waits for it, at most
 * the commit's timeout.
 */
public final class GroupCommitter implements AutoCloseable {

  private final Supplier<? extends Consumer<byte[], byte[]>> factory;
  private final Duration timeout;
  private DriverConsumer consumer;
  private boolean closed;

  /**
   * A committer whose consumer {@code factory} makes at the first call; the committer owns it.
   *
   * @param timeout how long each call may block
   */
  public GroupCommitter(Supplier<? extends Consumer<byte[], byte[]>> factory, Duration timeout) {
    this.factory = Objects.requireNonNull(factory, "factory");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /**
   * A committer for the group of the stream's Kafka parameters; connects to nothing before its
   * first call.
   */
  public static GroupCommitter forStream(Map<String, Object> params, Duration timeout) {
    Map<String, Object> config = KafkaParams.driverConsumer(params);
    return new GroupCommitter(() -> new KafkaConsumer<>(config), timeout);
  }

  /** The group's committed offsets; partitions without one are absent. Blocking. */
  public synchronized Map<TopicPartition, Long> committed(Set<TopicPartition> tps) {
    return tps.isEmpty() ? Map.of() : consumer().committed(tps);
  }

  /** Commits next offsets to the group, synchronously. */
  public synchronized void commit(Map<TopicPartition, Long> offsets, String metadata) {
    if (!offsets.isEmpty()) {
      consumer().commit(offsets, metadata);
    }
  }

  private DriverConsumer consumer() {
    if (closed) {
      throw new IllegalStateException("the group committer is closed (the stream stopped)");
    }
    if (consumer == null) {
      consumer = new DriverConsumer(factory.get(), timeout);
    }
    return consumer;
  }

  /** Closes the consumer, if one was created, waiting at most 2 s; idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      if (consumer != null) {
        consumer.close();
      }
    }
  }
}
