package io.sluice.engine;

import io.sluice.engine.rdd.RDD;
import java.util.List;
import java.util.Optional;

/**
 * An output that writes each batch's RDD somewhere and says what it guarantees. Registered with
 * {@code DStream.writeTo(output)}; every batch runs it as one output operation (one job).
 *
 * <p>The sinks module implements this for JDBC, Kafka, files and the console; applications can
 * implement it for their own systems.
 */
public interface BatchOutput<T> {

  /**
   * Writes one batch. Called on the job thread, once per batch and again when a batch is replayed
   * after a crash (with the same id and the same data); may run tasks through the RDD's actions.
   * Throwing fails the batch: nothing is committed and a restart replays it.
   */
  void write(RDD<T> rdd, Batch batch) throws Exception;

  /** What this output guarantees once its batch is committed. */
  DeliveryGuarantee guarantee();

  /**
   * Why this output cannot give exactly-once as configured, one short phrase per missing piece
   * (e.g. {@code "JdbcSink has no offset store"}); empty when it can. Checked by {@code start()}
   * when the context requires exactly-once.
   */
  default List<String> exactlyOnceGaps() {
    return List.of();
  }

  /**
   * Where this output commits the batch's input offsets inside its own transaction, or empty when
   * it commits none. When an output has a target, it is the one committer of every input's offsets:
   * the inputs do not commit them again, and each input must keep its progress in that same place
   * (its offset store, or for the exactly-once Kafka sink the Kafka consumer group), since that is
   * where the input reads its position at start. {@code start()} refuses two outputs with a target,
   * and an input whose own target differs.
   */
  default Optional<CommitTarget> offsetCommitTarget() {
    return Optional.empty();
  }

  /**
   * Whether this output, when it has an {@link #offsetCommitTarget()}, also commits the progress of
   * sequenced inputs ({@link SequencedPlan}: a receiver stream with a write-ahead log, a file
   * stream with a checkpoint directory) inside its transaction, so that those inputs are
   * exactly-once through it. Default false.
   */
  default boolean commitsSequences() {
    return false;
  }

  /**
   * For an output that {@link #commitsSequences()}: where sequence {@code sequence} stands in the
   * place it commits to, or empty when nothing was committed for it. Called by {@code start()}
   * after {@link #open}, on the driver thread.
   *
   * @throws UnsupportedOperationException when this output commits no sequences
   */
  default java.util.Optional<SequencePosition> committedSequence(String sequence) {
    throw new UnsupportedOperationException(describe() + " commits no sequenced progress");
  }

  /**
   * For an output that {@link #commitsSequences()}: commits the progress of {@code batch}'s
   * sequenced inputs by itself, fenced as with rows, for a batch in which this output ran no job
   * (between the slides of a window sliding by several intervals), so that its next commit
   * continues from there. Called on the job scheduler thread before the batch is marked committed.
   *
   * @throws UnsupportedOperationException when this output commits no sequences
   */
  default void commitSequences(Batch batch) {
    throw new UnsupportedOperationException(describe() + " commits no sequenced progress");
  }

  /**
   * Where this output keeps the changelog of keyed state that moves with its input's partitions
   * between processes (group mode), writing each batch's {@link
   * io.sluice.engine.state.StateChangelog#changes} in the transaction that commits the batch's
   * offsets; empty when it keeps none (the default), and then {@code start()} refuses keyed state
   * over a group-mode input this output commits for.
   */
  default Optional<io.sluice.engine.state.StateChangelog> stateChangelog() {
    return Optional.empty();
  }

  /**
   * Called once by {@code start()} on the driver thread before any batch runs: the place to check
   * settings against the context and to abort transactions a crashed run left open.
   */
  default void open(StreamingContext context) throws Exception {}

  /** Called once when the context stops; releases connections. Idempotent. */
  default void close() throws Exception {}

  /** A short name for messages and metrics. */
  default String describe() {
    return getClass().getSimpleName();
  }
}
