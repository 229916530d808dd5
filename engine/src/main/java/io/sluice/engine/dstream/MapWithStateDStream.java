package io.sluice.engine.dstream;

import io.sluice.engine.StreamingContext;

/**
 * The result of {@link PairDStream#mapWithState}: per batch, the values the mapping function
 * returned (one per record, and one per key that timed out; null results are dropped).
 *
 * @param <K> key type
 * @param <V> value type
 * @param <S> state type
 * @param <M> mapped type
 */
public abstract class MapWithStateDStream<K, V, S, M> extends DStream<M> {

  /** Registers the operator with {@code context} (engine use). */
  protected MapWithStateDStream(StreamingContext context, String kind) {
    super(context, kind);
  }

  /**
   * The whole state after each batch, as (key, state) pairs. Reading it costs in proportion to the
   * state's size; read it in the batch that produced it (an output operation, not a window).
   */
  public abstract PairDStream<K, S> stateSnapshots();
}
