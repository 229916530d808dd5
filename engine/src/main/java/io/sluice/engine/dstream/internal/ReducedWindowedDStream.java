package io.sluice.engine.dstream.internal;

import io.sluice.engine.KV;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.function.Function2;
import io.sluice.engine.rdd.PairRDD;
import io.sluice.engine.rdd.Partitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.CachedRDD;
import io.sluice.engine.rdd.internal.Fn;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Incremental keyed window: state(t) = state(t - slide) + entering batches - leaving batches. Each
 * key's state counts the batches contributing to it, so a key whose contributions all left is
 * removed and the result equals a full recomputation. Each state RDD is cached, which also cuts its
 * lineage.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class ReducedWindowedDStream<K, V>
    extends DStream<KV<K, ReducedWindowedDStream.Acc<V>>> {

  /**
   * A key's windowed value and the number of batches contributing to it.
   *
   * @param value reduced value
   * @param count contributing batches, > 0
   */
  public record Acc<V>(V value, long count) {}

  private record Delta(int kind, Object value) {}

  private static final int PREVIOUS = 0;
  private static final int ENTERING = 1;
  private static final int LEAVING = 2;

  private final DStream<KV<K, V>> parent;
  private final Function2<V, V, V> reduce;
  private final Function2<V, V, V> inverse;
  private final Duration length;
  private final Duration slide;
  private final Partitioner partitioner;

  private ReducedWindowedDStream(
      DStream<KV<K, V>> reducedParent,
      Function2<V, V, V> reduce,
      Function2<V, V, V> inverse,
      Duration length,
      Duration slide,
      Partitioner partitioner) {
    super(reducedParent.context(), "reduceByKeyAndWindow");
    this.parent = reducedParent;
    this.reduce = reduce;
    this.inverse = inverse;
    this.length = Objects.requireNonNull(length, "length");
    this.slide = Objects.requireNonNull(slide, "slide");
    this.partitioner = partitioner;
  }

  /**
   * The windowed values of {@code reducedParent}, which must hold at most one value per key and
   * batch.
   */
  public static <K, V> PairDStream<K, V> create(
      DStream<KV<K, V>> reducedParent,
      Function2<V, V, V> reduce,
      Function2<V, V, V> inverse,
      Duration length,
      Duration slide,
      Partitioner partitioner) {
    ReducedWindowedDStream<K, V> state =
        new ReducedWindowedDStream<>(reducedParent, reduce, inverse, length, slide, partitioner);
    return PairDStream.of(
        new TransformedDStream<KV<K, Acc<V>>, KV<K, V>>(
            state, "windowValues", (rdd, t) -> rdd.map(kv -> KV.of(kv.key(), kv.value().value()))));
  }

  @Override
  public List<DStream<?>> dependencies() {
    return List.of(parent);
  }

  @Override
  public Duration slideDuration() {
    return slide;
  }

  @Override
  protected void validate(Duration batchInterval) {
    Durations.requireWindow(name(), length, slide, batchInterval, parent.slideDuration());
  }

  @Override
  protected Duration minRememberDuration() {
    return slide;
  }

  @Override
  protected Duration parentRememberDuration(Duration own) {
    return own.plus(length).plus(slide);
  }

  @Override
  @SuppressWarnings("unchecked")
  protected Optional<RDD<KV<K, Acc<V>>>> compute(Instant time) {
    Instant previousTime = time.minus(slide);
    RDD<KV<K, Acc<V>>> previous =
        rddAt(previousTime).orElseGet(() -> new ParallelCollectionRDD<>(context(), List.of(), 0));
    RDD<KV<K, V>> entering = WindowedDStream.unionOf(parent, previousTime, time);
    RDD<KV<K, V>> leaving =
        WindowedDStream.unionOf(parent, previousTime.minus(length), time.minus(length));
    RDD<KV<K, Delta>> deltas =
        previous
            .map(kv -> KV.of(kv.key(), new Delta(PREVIOUS, kv.value())))
            .union(entering.map(kv -> KV.of(kv.key(), new Delta(ENTERING, kv.value()))))
            .union(leaving.map(kv -> KV.of(kv.key(), new Delta(LEAVING, kv.value()))));
    RDD<KV<K, Acc<V>>> next =
        PairRDD.of(deltas)
            .groupByKey(partitioner)
            .flatMap(
                group -> {
                  List<Delta> ds = new ArrayList<>(group.value());
                  ds.sort(Comparator.comparingInt(Delta::kind));
                  V value = null;
                  long count = 0;
                  for (Delta d : ds) {
                    switch (d.kind()) {
                      case PREVIOUS -> {
                        Acc<V> acc = (Acc<V>) d.value();
                        value = acc.value();
                        count = acc.count();
                      }
                      case ENTERING -> {
                        value = count == 0 ? (V) d.value() : Fn.call(reduce, value, (V) d.value());
                        count++;
                      }
                      default -> {
                        if (count <= 0) {
                          throw new IllegalStateException(
                              "window state of '"
                                  + name()
                                  + "' lost key "
                                  + group.key()
                                  + " before its batch left the window");
                        }
                        count--;
                        value = count == 0 ? null : Fn.call(inverse, value, (V) d.value());
                      }
                    }
                  }
                  return count == 0
                      ? List.<KV<K, Acc<V>>>of().iterator()
                      : List.of(KV.of(group.key(), new Acc<>(value, count))).iterator();
                });
    return Optional.of(new CachedRDD<>(next));
  }
}
