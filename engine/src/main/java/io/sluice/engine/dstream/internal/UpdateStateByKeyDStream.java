package io.sluice.engine.dstream.internal;

import io.sluice.engine.KV;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.function.Function2;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.Partitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.Fn;
import io.sluice.engine.state.StateSerde;
import io.sluice.engine.state.internal.StateOperator;
import io.sluice.engine.state.internal.StatePartition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code updateStateByKey}: per batch, {@code update(values, state)} for every key with values in
 * the batch or a state, as Spark does; the result is every key's state after the batch. The state
 * lives in a {@link StateOperator} and changes exactly once per batch.
 *
 * @param <K> key type
 * @param <V> value type
 * @param <S> state type
 */
public final class UpdateStateByKeyDStream<K, V, S> extends DStream<KV<K, S>> {

  private final DStream<KV<K, V>> parent;
  private final Function2<List<V>, Optional<S>, Optional<S>> update;
  private final StateOperator<K, S> operator;

  /** Creates the operator over {@code parent}; {@code initial} may be null. */
  public UpdateStateByKeyDStream(
      DStream<KV<K, V>> parent,
      Function2<List<V>, Optional<S>, Optional<S>> update,
      Partitioner partitioner,
      RDD<KV<K, S>> initial) {
    super(parent.context(), "updateStateByKey");
    this.parent = parent;
    this.update = update;
    this.operator =
        new StateOperator<>(
            this::name,
            partitioner,
            StateSerde.typedJson(),
            StateSerde.typedJson(),
            null,
            StateStreams.collect(initial, s -> s));
    EngineAccess.runtime(parent.context()).registerStateOperator(operator);
  }

  /** The operator's state. */
  public StateOperator<K, S> operator() {
    return operator;
  }

  @Override
  public List<DStream<?>> dependencies() {
    return List.of(parent);
  }

  @Override
  public Duration slideDuration() {
    return parent.slideDuration();
  }

  @Override
  protected Optional<RDD<KV<K, S>>> compute(Instant time) {
    return StateStreams.batchRdd(parent, operator, time, this::updatePartition);
  }

  private List<KV<K, S>> updatePartition(
      StatePartition<K, S> part, Iterator<KV<K, List<V>>> in, long batchId) {
    part.begin(batchId);
    try {
      Set<K> seen = new HashSet<>();
      while (in.hasNext()) {
        KV<K, List<V>> kv = in.next();
        apply(part, kv.key(), kv.value());
        seen.add(kv.key());
      }
      for (K key : new ArrayList<>(part.store().view().keySet())) {
        if (!seen.contains(key)) {
          apply(part, key, List.of());
        }
      }
      List<KV<K, S>> out = new ArrayList<>(part.store().size());
      for (Map.Entry<K, S> e : part.store().view().entrySet()) {
        out.add(KV.of(e.getKey(), e.getValue()));
      }
      part.persist(batchId);
      return out;
    } catch (RuntimeException | Error e) {
      part.abort();
      throw e;
    }
  }

  private void apply(StatePartition<K, S> part, K key, List<V> values) {
    S current = part.store().get(key);
    Optional<S> next = Fn.call(update, values, Optional.ofNullable(current));
    if (next == null || next.isEmpty()) {
      if (current != null) {
        part.remove(key);
      }
    } else if (next.get() != current) {
      // The same object back means unchanged (states must not be mutated in place): no delta entry.
      part.put(key, next.get());
    }
  }
}
