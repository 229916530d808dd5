package io.sluice.kafka.direct.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A group-mode stream's membership in its consumer group: a consumer subscribed to the stream's
 * topics, owned by a thread of its own, which polls so that the member takes part in rebalances and
 * never reads a record (every assigned partition is paused; tasks read the batches' ranges on their
 * own consumers). Rebalance callbacks reach the {@link Listener} on that thread; a revocation may
 * block it until the batches planned with the partitions have committed, while the thread goes on
 * running the member's commits ({@link #serveUntil}).
 *
 * <p>Threads: {@link #metadata()} and {@link #subscribe} from any thread; {@link #commit} from any
 * thread (it runs on the member's thread); {@link #close()} once, from the stream's stop.
 */
final class GroupMember implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(GroupMember.class);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /** What the member tells its stream; called on the member's thread. */
  interface Listener {

    /** Partitions newly assigned to this member. */
    void assigned(Collection<TopicPartition> partitions);

    /**
     * Partitions to give up: returns once they may go to another member (their batches committed,
     * or given up). May call {@link GroupMember#serveUntil} to wait.
     */
    void revoked(Collection<TopicPartition> partitions);

    /** Partitions already owned by another member (this one's session ended): drop them now. */
    void lost(Collection<TopicPartition> partitions);
  }

  private final String name;
  private final String group;
  private final Consumer<byte[], byte[]> consumer;
  private final Listener listener;
  private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile ConsumerGroupMetadata metadata;
  private volatile Set<String> topics;
  private volatile boolean running = true;
  private volatile RuntimeException failure;

  /**
   * Starts the member's thread, which subscribes {@code consumer} to {@code topics} and polls.
   * Takes ownership of {@code consumer}.
   */
  GroupMember(
      String name,
      String group,
      Supplier<Consumer<byte[], byte[]>> consumer,
      Set<String> topics,
      Listener listener) {
    this.name = name;
    this.group = group;
    this.consumer = consumer.get();
    this.listener = listener;
    this.topics = Set.copyOf(topics);
    this.metadata = new ConsumerGroupMetadata(group);
    this.thread = new Thread(this::run, "sluice-group-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** The member's current group metadata (member id, generation), for KIP-447 commits. */
  ConsumerGroupMetadata metadata() {
    RuntimeException f = failure;
    if (f != null) {
      throw new IllegalStateException(
          "stream " + name + ": the member of group '" + group + "' failed: " + f, f);
    }
    return metadata;
  }

  /** Subscribes to {@code newTopics} if they differ from the current subscription. */
  void subscribe(Set<String> newTopics) {
    if (!newTopics.equals(topics)) {
      Set<String> copy = Set.copyOf(newTopics);
      topics = copy;
      tasks.add(() -> subscribeNow(copy));
    }
  }

  /**
   * Commits next offsets to the group as this member, on the member's thread, waiting at most
   * {@code timeout}.
   *
   * @throws KafkaException what the commit threw (e.g. {@code CommitFailedException} when the
   *     member's generation is over, {@code RebalanceInProgressException} during a rebalance)
   * @throws TimeoutException when the commit did not finish within {@code timeout}
   */
  void commit(Map<TopicPartition, Long> offsets, String commitMetadata, Duration timeout) {
    if (offsets.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> om = new HashMap<>();
    offsets.forEach((tp, o) -> om.put(tp, new OffsetAndMetadata(o, commitMetadata)));
    if (Thread.currentThread() == thread) {
      consumer.commitSync(om, timeout);
      return;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    tasks.add(
        () -> {
          try {
            consumer.commitSync(om, timeout);
            done.complete(null);
          } catch (RuntimeException e) {
            done.completeExceptionally(e);
          }
        });
    try {
      done.get(timeout.toMillis() + POLL.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new KafkaException(e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new TimeoutException(
          "stream " + name + ": committing to group '" + group + "' took over " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    }
  }

  /**
   * Runs the member's queued work (commits) until {@code done} holds or {@code max} passed; member
   * thread only (a rebalance callback waiting for batches to commit).
   *
   * @return whether {@code done} holds
   */
  boolean serveUntil(BooleanSupplier done, Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline || !running) {
        return done.getAsBoolean();
      }
      try {
        Runnable task = tasks.poll(20, TimeUnit.MILLISECONDS);
        if (task != null) {
          task.run();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return done.getAsBoolean();
      }
    }
    return true;
  }

  /**
   * Throws when the member failed: its assignment is no longer known, so the stream must not plan
   * another batch.
   */
  void check() {
    RuntimeException f = failure;
    if (f != null) {
      throw new IllegalStateException(
          "stream " + name + ": the member of consumer group '" + group + "' failed: " + f, f);
    }
  }

  private void run() {
    try {
      subscribeNow(topics);
      while (running) {
        for (Runnable task; (task = tasks.poll()) != null; ) {
          task.run();
        }
        // Every assigned partition is paused, so this returns no record; it heartbeats the
        // member's liveness to the coordinator and runs rebalances.
        consumer.poll(POLL);
        metadata = consumer.groupMetadata();
      }
    } catch (WakeupException | InterruptException e) {
      if (running) {
        failure = e;
      }
    } catch (RuntimeException e) {
      failure = e;
      log.error(
          "stream {}: the member of consumer group '{}' failed; it plans no more batches",
          name,
          group,
          e);
    } finally {
      try {
        // Leaving the group revokes this member's partitions (the listener releases them) and
        // hands them to the others at once, without waiting for the session timeout.
        consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
      } catch (RuntimeException e) {
        log.warn("stream {}: closing the member of group '{}' failed", name, group, e);
      }
      for (Runnable task; (task = tasks.poll()) != null; ) {
        task.run(); // commits queued during close fail fast on the closed consumer
      }
    }
  }

  private void subscribeNow(Set<String> newTopics) {
    log.info("stream {}: member of consumer group '{}' subscribes to {}", name, group, newTopics);
    consumer.subscribe(newTopics, new Callbacks());
  }

  /** Stops polling and leaves the group, waiting for the member's thread. */
  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(CLOSE_TIMEOUT.toMillis() * 2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Callbacks implements ConsumerRebalanceListener {

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      metadata = consumer.groupMetadata();
      consumer.pause(consumer.assignment());
      if (!partitions.isEmpty()) {
        log.info(
            "stream {}: assigned {} (group '{}', generation {})",
            name,
            partitions,
            group,
            metadata.generationId());
        listener.assigned(partitions);
      }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      metadata = consumer.groupMetadata();
      if (!partitions.isEmpty()) {
        log.info("stream {}: revoking {} (group '{}')", name, partitions, group);
        listener.revoked(partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      metadata = consumer.groupMetadata();
      if (!partitions.isEmpty()) {
        log.warn(
            "stream {}: lost {} (group '{}'): the member's session ended, another member may own"
                + " them now; batches still holding them cannot commit",
            name,
            partitions,
            group);
        listener.lost(partitions);
      }
    }
  }

  @Override
  public String toString() {
    return "GroupMember[" + name + ", group=" + group + ", topics=" + topics + "]";
  }
}
