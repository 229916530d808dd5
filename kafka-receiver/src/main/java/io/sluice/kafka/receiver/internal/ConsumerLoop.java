package io.sluice.kafka.receiver.internal;

import io.sluice.offsets.OffsetRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a Kafka receiver, from {@code onStart} to {@code onStop} or a restart: a group
 * consumer on a thread of its own ({@code sluice-kafka-receiver-<group>-<n>}), which polls, stores
 * each poll's records as one block, and only then commits the positions the block reached. The
 * consumer has one owner, this thread: it is created, used and closed there; other threads only
 * call {@link #stop}, which wakes it up.
 *
 * <p>Rebalances: the callbacks run inside {@code poll}, on this thread, when every record polled
 * before is either stored or dropped, so a revoked partition commits exactly what its stored blocks
 * reached, and records polled but not stored are never committed: the next owner fetches them
 * again. Lost partitions (this member was expelled) commit nothing, since another member may own
 * them already. Assigned partitions start at the committer's committed position.
 *
 * <p>Failures (the consumer, a store, a commit) ask the engine to restart the receiver, which backs
 * off, calls {@code onStop} (joining this thread, which closes the consumer) and starts a new run;
 * the new consumer starts from the committed positions, so blocks stored but not committed are
 * received again (at-least-once).
 */
final class ConsumerLoop implements Runnable, ConsumerRebalanceListener {

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);
  private static final AtomicInteger RUNS = new AtomicInteger();

  /** Records after which a gathered block is stored at once. */
  static final int MAX_BLOCK_RECORDS = 50_000;

  private final KafkaBlockReceiver receiver;
  private final ReceiverParams params;
  private final OffsetCommitter committer;
  private final BlockWriter writer;
  private final Duration pollTimeout;
  private final Duration closeTimeout;
  private final Duration blockInterval;
  private final List<ReceivedRecord> pending = new ArrayList<>();
  private long pendingSince;
  private final Positions positions = new Positions();
  private final Thread thread;
  private volatile boolean stopping;
  private volatile Consumer<byte[], byte[]> consumer;

  ConsumerLoop(
      KafkaBlockReceiver receiver,
      ReceiverParams params,
      OffsetCommitter committer,
      BlockWriter writer,
      Duration pollTimeout,
      Duration closeTimeout,
      Duration blockInterval) {
    this.blockInterval = blockInterval;
    this.receiver = receiver;
    this.params = params;
    this.committer = committer;
    this.writer = writer;
    this.pollTimeout = pollTimeout;
    this.closeTimeout = closeTimeout;
    this.thread =
        new Thread(this, "sluice-kafka-receiver-" + params.group() + "-" + RUNS.getAndIncrement());
    thread.setDaemon(true);
    thread.setUncaughtExceptionHandler(
        (t, e) -> {
          LOG.error("{} failed on {}", receiver.describe(), t.getName(), e);
          receiver.restart("the consumer thread failed", e);
        });
  }

  /** Starts the consumer's thread. */
  void start() {
    thread.start();
  }

  /**
   * Stops the run: wakes the consumer up and waits up to {@code timeout} for its thread to commit
   * what is stored and close it. Idempotent; any thread but the consumer's.
   */
  void stop(Duration timeout) {
    stopping = true;
    Consumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    // A hard stop interrupts the calling slot thread; the consumer's thread still gets its time to
    // commit what is stored and close, so that it never outlives the context.
    long deadline = System.nanoTime() + Math.max(1, timeout.toNanos());
    boolean interrupted = false;
    while (thread.isAlive() && System.nanoTime() < deadline) {
      try {
        thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn(
          "{}: the consumer thread {} did not end within {} (blocked storing a block?); it ends"
              + " after its current call",
          receiver.describe(),
          thread.getName(),
          timeout);
    }
  }

  @Override
  public void run() {
    Consumer<byte[], byte[]> c;
    try {
      c = new KafkaConsumer<>(params.consumerConfig());
    } catch (RuntimeException e) {
      fail("cannot create the consumer of group '" + params.group() + "'", e);
      return;
    }
    consumer = c;
    try {
      if (!stopping) {
        c.subscribe(params.topics(), this);
        receive(c);
      }
    } catch (WakeupException e) {
      if (!stopping) {
        fail("the consumer was woken up unexpectedly", e);
      }
    } catch (RuntimeException e) {
      fail("the consumer failed", e);
    } finally {
      close(c);
    }
  }

  /**
   * Polls, gathering what the polls return into one block until it holds {@link
   * #MAX_BLOCK_RECORDS}, the block interval passed since its first record, or a poll returns
   * nothing; then stores the block and commits the positions it reaches. A block per poll would pay
   * the store's fixed cost (an fsync, a commit) every few hundred records.
   */
  private void receive(Consumer<byte[], byte[]> c) {
    while (!stopping && !receiver.isStopped()) {
      ConsumerRecords<byte[], byte[]> polled = c.poll(pollTimeout);
      if (stopping) {
        // Not stored, so not committed: the next owner of these partitions fetches them again.
        return;
      }
      if (!polled.isEmpty()) {
        if (pending.isEmpty()) {
          pendingSince = System.nanoTime();
        }
        addTo(pending, polled);
      }
      boolean due =
          polled.isEmpty()
              || pending.size() >= MAX_BLOCK_RECORDS
              || System.nanoTime() - pendingSince >= blockInterval.toNanos();
      if (due) {
        storePending(c);
        commit(c, positions.uncommitted(), false);
      }
    }
  }

  /**
   * Stores what was polled as one block, with the positions the consumer reached (read before the
   * write, so no consumer call stands between a stored block and its commit); they count as stored
   * once the block is.
   */
  private void storePending(Consumer<byte[], byte[]> c) {
    Map<TopicPartition, Long> reached = new HashMap<>();
    for (TopicPartition tp : c.assignment()) {
      reached.put(tp, c.position(tp));
    }
    if (!pending.isEmpty()) {
      writer.write(List.copyOf(pending), StoredMarks.of(reached, positions.committedPositions()));
      pending.clear();
    }
    reached.forEach(positions::stored);
  }

  private static void addTo(List<ReceivedRecord> block, ConsumerRecords<byte[], byte[]> polled) {
    for (ConsumerRecord<byte[], byte[]> r : polled) {
      block.add(
          new ReceivedRecord(
              r.topic(),
              r.partition(),
              r.offset(),
              r.timestamp(),
              r.timestampType(),
              r.key(),
              r.value(),
              List.of(r.headers().toArray())));
    }
  }

  /**
   * Commits {@code ranges}, all stored. In the loop, a failure the committer cannot retry later
   * ends the run with a restart; in a revoke callback ({@code revoking}) it is logged, since the
   * partitions are leaving anyway and their next owner re-reads from the committed position.
   */
  private void commit(Consumer<byte[], byte[]> c, List<OffsetRange> ranges, boolean revoking) {
    if (ranges.isEmpty()) {
      return;
    }
    try {
      committer.commit(c, ranges);
      positions.committed(ranges);
      LOG.debug("{} committed {} to {}", receiver.describe(), ranges, committer.describe());
    } catch (WakeupException e) {
      throw e;
    } catch (RuntimeException e) {
      if (revoking || committer.retryLater(e)) {
        LOG.warn(
            "{}: could not commit {} to {}{}: {}",
            receiver.describe(),
            ranges,
            committer.describe(),
            revoking ? " for revoked partitions (their next owner receives them again)" : "",
            e.toString());
        return;
      }
      throw e;
    }
  }

  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    if (!stopping) {
      // What was polled is stored before the partitions leave, so their next owner starts after it.
      storePending(consumer);
    }
    commit(consumer, positions.uncommitted(partitions), true);
    positions.forget(partitions);
    LOG.info("{}: partitions revoked {}", receiver.describe(), partitions);
  }

  @Override
  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    // Their records polled but not stored stay unstored: another member may own them already.
    pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
    positions.forget(partitions);
    LOG.warn(
        "{}: partitions lost {} (this member left the group): their stored blocks are not"
            + " committed, their next owner receives them again",
        receiver.describe(),
        partitions);
  }

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    Consumer<byte[], byte[]> c = consumer;
    committer.seekAssigned(c, partitions);
    Map<String, String> marks = receiver.storedMarks();
    List<String> starts = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      long position = c.position(tp);
      positions.assigned(tp, position);
      Optional<StoredMarks.Mark> mark = StoredMarks.of(marks, tp);
      if (mark.isPresent()
          && position >= mark.get().committed()
          && position < mark.get().stored()) {
        // The blocks up to the mark are stored but their commit was lost (a crash between the two):
        // receiving them again would store them twice. Continue after them and commit them.
        long stored = mark.get().stored();
        c.seek(tp, stored);
        positions.stored(tp, stored);
        LOG.info(
            "{}: {} was committed up to {}, but the stored blocks reach {}: continuing after them and"
                + " committing them",
            receiver.describe(),
            tp,
            position,
            stored);
        starts.add(tp + "@" + stored);
        continue;
      }
      if (mark.isPresent() && position < mark.get().committed()) {
        LOG.warn(
            "{}: {} was moved back to {} since the receiver committed {} (a reset): receiving from {},"
                + " records after it again",
            receiver.describe(),
            tp,
            position,
            mark.get().committed(),
            position);
      }
      starts.add(tp + "@" + position);
    }
    LOG.info("{}: partitions assigned, starting at {}", receiver.describe(), starts);
  }

  private void fail(String message, RuntimeException e) {
    if (stopping || receiver.isStopped()) {
      LOG.debug("{}: {} while stopping: {}", receiver.describe(), message, e.toString());
      return;
    }
    receiver.restart(message + " (" + committer.describe() + "): " + e, e);
  }

  private void close(Consumer<byte[], byte[]> c) {
    try {
      // Leaving the group runs onPartitionsRevoked: what is stored gets committed.
      c.close(CloseOptions.timeout(closeTimeout));
    } catch (RuntimeException e) {
      LOG.warn("{}: closing the consumer failed: {}", receiver.describe(), e.toString());
    }
  }
}
