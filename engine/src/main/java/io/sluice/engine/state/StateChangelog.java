package io.sluice.engine.state;

import io.sluice.engine.Batch;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.internal.EngineAccess;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Where keyed state that moves between processes is kept: an output that commits its batches' input
 * offsets in a transaction (a group-mode Kafka input's exactly-once sink) writes each batch's
 * {@link StateChange}s in that same transaction, so a partition's state and its committed offset
 * can never disagree, and reads them back when a process takes the partition over.
 *
 * <p>In group mode, a {@code mapWithState} or {@code updateStateByKey} over a Kafka input keeps its
 * state per input partition; the engine restores a partition's state through {@link #restore} the
 * first time the partition appears in one of this process's batches, and the output writes {@link
 * #changes} of every batch before it commits.
 */
public interface StateChangelog {

  /**
   * Reads the state of operator {@code operator} for source partition {@code source} as of the last
   * committed batch, handing every entry (serialized key, serialized value) to {@code entry}.
   * Called on a task thread; blocking.
   *
   * @throws Exception when the state cannot be read; the batch fails and nothing is committed
   */
  void restore(String operator, String source, BiConsumer<byte[], byte[]> entry) throws Exception;

  /** Where the changelog lives, for messages (e.g. {@code table sluice_state}). */
  String describeChangelog();

  /**
   * The state changes of {@code batch} in {@code context}, to be written in the transaction that
   * commits the batch; empty when no state operator keeps its state per source partition. Call from
   * the output's {@code write}, after which the batch's state jobs have run.
   */
  static List<StateChange> changes(StreamingContext context, Batch batch) {
    return EngineAccess.runtime(context).stateChanges(batch.id());
  }
}
