package io.sluice.kafka.receiver.internal;

import io.sluice.engine.receiver.Receiver;
import io.sluice.engine.state.StateSerde;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The receiver behind both Kafka receiver streams: each run ({@code onStart} to {@code onStop}) is
 * one {@link ConsumerLoop} with a fresh consumer and committer; {@code onStop} wakes the consumer
 * and waits for its thread to commit what is stored and close it. Stores {@link ReceivedRecord}s,
 * written to the write-ahead log with the compact {@link ReceivedRecordSerde}.
 */
public final class KafkaBlockReceiver extends Receiver<ReceivedRecord> {

  private final ReceiverParams params;
  private final Supplier<OffsetCommitter> committers;
  private final BlockWriter writer;
  private final Duration pollTimeout;
  private final Duration closeTimeout;
  private final Duration blockInterval;
  private final String description;
  private final Object lock = new Object();
  private ConsumerLoop loop; // guarded by lock

  /**
   * A receiver of {@code params}' topics whose runs commit through a committer from {@code
   * committers}; {@code writer} wraps the receiver's own {@code store(List)} (the identity in
   * production; tests use it to hold or fail a block).
   */
  KafkaBlockReceiver(
      ReceiverParams params,
      Supplier<OffsetCommitter> committers,
      UnaryOperator<BlockWriter> writer,
      Duration pollTimeout,
      Duration closeTimeout,
      Duration blockInterval,
      String kind) {
    this.blockInterval = blockInterval;
    this.params = params;
    this.committers = committers;
    this.writer = Objects.requireNonNull(writer.apply(this::store), "writer");
    this.pollTimeout = pollTimeout;
    this.closeTimeout = closeTimeout;
    this.description = kind + " of " + params.topics() + " (group '" + params.group() + "')";
  }

  @Override
  public String describe() {
    return description;
  }

  /** The compact binary form, so the write-ahead log holds the exact bytes Kafka returned. */
  @Override
  public StateSerde<ReceivedRecord> serde() {
    return ReceivedRecordSerde.instance();
  }

  @Override
  public void onStart() {
    synchronized (lock) {
      startLoop();
    }
  }

  private void startLoop() {
    loop =
        new ConsumerLoop(
            this, params, committers.get(), writer, pollTimeout, closeTimeout, blockInterval);
    loop.start();
  }

  /**
   * Wakes the consumer up and waits (up to the close timeout and a poll) for its thread to commit
   * what is stored and close it, so a restarted run never shares the group with this one.
   */
  @Override
  public void onStop() {
    synchronized (lock) {
      if (loop != null) {
        loop.stop(closeTimeout.plus(pollTimeout));
        loop = null;
      }
    }
  }
}
