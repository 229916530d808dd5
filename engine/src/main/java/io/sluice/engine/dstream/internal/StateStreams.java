package io.sluice.engine.dstream.internal;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.PairRDD;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import io.sluice.engine.state.internal.StateOperator;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
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
  interface BatchUpdate<K, V, R> {
    List<R> apply(int partition, Iterator<KV<K, List<V>>> input, long batchId);
  }

  /**
   * The state operator's RDD of the batch at {@code time}: the parent's pairs grouped by the
   * operator's partitioner, applied by {@code update}; registered with the operator for the batch's
   * state job. Empty when no batch was planned at {@code time}.
   */
  static <K, V, R> Optional<RDD<R>> batchRdd(
      DStream<KV<K, V>> parent,
      StateOperator<K, ?> operator,
      Instant time,
      BatchUpdate<K, V, R> update) {
    OptionalLong batchId = EngineAccess.runtime(parent.context()).graph().batchIdAt(time);
    if (batchId.isEmpty()) {
      return Optional.empty();
    }
    long id = batchId.getAsLong();
    RDD<KV<K, V>> input =
        parent
            .rddAt(time)
            .orElseGet(() -> new ParallelCollectionRDD<>(parent.context(), List.of(), 0));
    RDD<KV<K, List<V>>> grouped = PairRDD.of(input).groupByKey(operator.partitioner());
    StateRDD<KV<K, List<V>>, R> rdd =
        new StateRDD<>(grouped, operator, (p, in) -> update.apply(p, in, id));
    operator.batchRdd(id, rdd);
    return Optional.of(rdd);
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
