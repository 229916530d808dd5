package io.sluice.sinks;

import io.sluice.engine.StreamingContext;

/**
 * A {@link KafkaSink} that writes each batch <b>exactly-once</b> (for {@code read_committed}
 * readers), built by {@code KafkaSink.builder()...exactlyOnce().build()}.
 *
 * <p>One transactional producer per sink with {@code transactional.id = <appName>-<name>}, the same
 * across restarts. {@code open()} checks {@code transaction.timeout.ms} against the broker's {@code
 * transaction.max.timeout.ms} and the batch interval, then calls {@code initTransactions()}, which
 * fences any older producer with that id (a zombie driver) and aborts a transaction a crashed run
 * left open. Per batch, on the job thread: {@code beginTransaction}, the batch's tasks send their
 * partitions concurrently through the shared producer, {@code flush}, the group's committed offsets
 * are checked to stand where the batch's ranges begin (else the transaction is aborted: a reset or
 * another writer moved the group), the batch's offsets are added with {@code
 * sendOffsetsToTransaction} (metadata {@link io.sluice.offsets.KafkaCommitMetadata}), and {@code
 * commitTransaction}: the output and the input offsets become visible to {@code read_committed}
 * consumers together. A failed send or commit aborts the transaction and fails the batch with a
 * {@link SinkException}; a fenced producer fails the batch and every later one (the process is a
 * zombie: stop it). Nothing is swallowed, and the restarted application replays the batch. The
 * transaction and the classification of its failures are {@link
 * io.sluice.offsets.TransactionalProducer}'s, shared with the Kafka offset store.
 *
 * @param <T> record type
 */
public interface TransactionalKafkaSink<T> extends KafkaSink<T>, TransactionalSink<T> {

  /**
   * Checks {@code transaction.timeout.ms} against the broker's {@code transaction.max.timeout.ms}
   * and the context's batch interval, then creates the producer and calls {@code
   * initTransactions()} (fencing older producers with the same id, aborting their open
   * transaction). Blocking; called by {@code StreamingContext.start()}.
   *
   * @throws IllegalStateException naming the settings and values when the transaction timeout does
   *     not fit
   * @throws SinkException when the broker cannot be reached or {@code initTransactions()} fails
   */
  @Override
  void open(StreamingContext context);

  /**
   * The producer's {@code transactional.id}, {@code <appName>-<name>}; null before {@code open()}.
   */
  String transactionalId();
}
