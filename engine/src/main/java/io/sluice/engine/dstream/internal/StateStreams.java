package io.sluice.engine.dstream.internal;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;

/** What the state operators' streams share. */
final class StateStreams {

  private StateStreams() {}

  /** The id of the batch at {@code time}, or empty when no batch was planned then. */
  static OptionalLong batchIdAt(StreamingContext ctx, Instant time) {
    return EngineAccess.runtime(ctx).graph().batchIdAt(time);
  }

  /** The parent's RDD at {@code time}, or an empty one. */
  static <T> RDD<T> inputAt(DStream<T> parent, Instant time) {
    return parent
        .rddAt(time)
        .orElseGet(() -> new ParallelCollectionRDD<>(parent.context(), List.of(), 0));
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
