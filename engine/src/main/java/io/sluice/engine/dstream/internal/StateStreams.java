package io.sluice.engine.dstream.internal;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.PairRDD;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.MapPartitionsRDD;
import io.sluice.engine.rdd.internal.OneToOne;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import io.sluice.engine.state.internal.StateOperator;
import io.sluice.engine.state.internal.StatePartition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;

/** What the state operators' streams share. */
final class StateStreams {

  private StateStreams() {}

  /** Applies one partition of one batch to the state; see {@link StateRDD}. */
  @FunctionalInterface
  interface BatchUpdate<K, V, S, R> {
    List<R> apply(StatePartition<K, S> part, Iterator<KV<K, List<V>>> input, long batchId);
  }

  /**
   * The state operator's RDD of the batch at {@code time}: the parent's pairs grouped by the
   * operator's partitioner (or, when the operator keeps its state per source partition, grouped
   * within each input partition, without a shuffle), applied by {@code update}; registered with the
   * operator for the batch's state job. Empty when no batch was planned at {@code time}.
   */
  static <K, V, S, R> Optional<RDD<R>> batchRdd(
      DStream<KV<K, V>> parent,
      StateOperator<K, S> operator,
      Instant time,
      BatchUpdate<K, V, S, R> update) {
    OptionalLong batchId = EngineAccess.runtime(parent.context()).graph().batchIdAt(time);
    if (batchId.isEmpty()) {
      return Optional.empty();
    }
    long id = batchId.getAsLong();
    RDD<KV<K, V>> input =
        parent
            .rddAt(time)
            .orElseGet(() -> new ParallelCollectionRDD<>(parent.context(), List.of(), 0));
    String[] sources = operator.followsSources() ? operator.sourcesOf(id, input) : null;
    RDD<KV<K, List<V>>> grouped =
        sources == null
            ? PairRDD.of(input).groupByKey(operator.partitioner())
            : new MapPartitionsRDD<>(input, (p, in, ctx) -> groupLocally(in));
    StateRDD<K, S, KV<K, List<V>>, R> rdd =
        new StateRDD<>(grouped, operator, id, sources, (part, in) -> update.apply(part, in, id));
    operator.batchRdd(id, rdd);
    return Optional.of(rdd);
  }

  /** One partition's pairs grouped by key, keys in order of first appearance, values in order. */
  private static <K, V> Iterator<KV<K, List<V>>> groupLocally(Iterator<KV<K, V>> in) {
    Map<K, List<V>> groups = new LinkedHashMap<>();
    while (in.hasNext()) {
      KV<K, V> kv = in.next();
      groups.computeIfAbsent(kv.key(), k -> new ArrayList<>()).add(kv.value());
    }
    List<KV<K, List<V>>> out = new ArrayList<>(groups.size());
    groups.forEach((k, vs) -> out.add(KV.of(k, vs)));
    return out.iterator();
  }

  /** The state partition that partition {@code partition} of the operator's batch RDD updated. */
  static <K, S> StatePartition<K, S> statePartitionOf(RDD<?> batchRdd, int partition) {
    RDD<?> at = batchRdd;
    while (!(at instanceof StateRDD<?, ?, ?, ?>) && OneToOne.parentOf(at) != null) {
      at = OneToOne.parentOf(at);
    }
    if (at instanceof StateRDD<?, ?, ?, ?> state) {
      @SuppressWarnings("unchecked")
      StatePartition<K, S> part = (StatePartition<K, S>) state.statePartition(partition);
      return part;
    }
    throw new IllegalStateException(
        "not a state operator's batch RDD: " + batchRdd.getClass().getSimpleName());
  }

  /** The id of the batch at {@code time}, or empty when no batch was planned then. */
  static OptionalLong batchIdAt(StreamingContext ctx, Instant time) {
    return EngineAccess.runtime(ctx).graph().batchIdAt(time);
  }

  /**
   * The initial state RDD as a map of stored values, collected on the driver when the operator
   * opens; null without an initial state.
   */
  static <K, S, V> Supplier<Map<K, V>> collect(RDD<KV<K, S>> initial, Function<S, V> wrap) {
    if (initial == null) {
      return null;
    }
    return () -> {
      Map<K, V> out = new HashMap<>();
      for (KV<K, S> kv : initial.collect()) {
        out.put(kv.key(), wrap.apply(kv.value()));
      }
      return out;
    };
  }
}
