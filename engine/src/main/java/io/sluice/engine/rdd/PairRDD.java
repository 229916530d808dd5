package io.sluice.engine.rdd;

import io.sluice.engine.KV;
import io.sluice.engine.function.FlatMapFunction;
import io.sluice.engine.function.Function;
import io.sluice.engine.function.Function2;
import io.sluice.engine.rdd.internal.Fn;
import io.sluice.engine.rdd.internal.MapPartitionsRDD;
import io.sluice.engine.rdd.internal.ShuffledRDD;
import io.sluice.engine.rdd.internal.ShuffledRDD.Aggregator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An RDD of {@link KV} pairs with key-based operations. A view: it computes exactly its parent's
 * partitions. Shuffling operations use a {@link HashPartitioner} over the context's parallelism
 * unless a number of partitions or a partitioner is given; they shuffle through memory, combining
 * map-side where the operation allows (reduceByKey, combineByKey).
 *
 * @param <K> key type
 * @param <V> value type
 */
public class PairRDD<K, V> extends RDD<KV<K, V>> {

  private final RDD<KV<K, V>> parent;

  /** A pair view of {@code parent}. */
  public PairRDD(RDD<KV<K, V>> parent) {
    super(Objects.requireNonNull(parent, "parent").context());
    this.parent = parent;
  }

  /** {@code rdd} itself if it is a PairRDD, else a pair view of it. */
  public static <K, V> PairRDD<K, V> of(RDD<KV<K, V>> rdd) {
    return rdd instanceof PairRDD<K, V> p ? p : new PairRDD<>(rdd);
  }

  @Override
  public int numPartitions() {
    return parent.numPartitions();
  }

  @Override
  public List<Dependency> dependencies() {
    return List.of(Dependency.narrow(parent));
  }

  @Override
  public Iterator<KV<K, V>> compute(int partition, TaskContext ctx) {
    return parent.iterator(partition, ctx);
  }

  /** The keys. */
  public RDD<K> keys() {
    return map(KV::key);
  }

  /** The values. */
  public RDD<V> values() {
    return map(KV::value);
  }

  /** Applies {@code f} to each value, keeping keys. */
  public <W> PairRDD<K, W> mapValues(Function<V, W> f) {
    Objects.requireNonNull(f, "f");
    return new PairRDD<>(
        new MapPartitionsRDD<KV<K, V>, KV<K, W>>(
            this, (p, it, tc) -> Fn.map(it, kv -> KV.of(kv.key(), Fn.call(f, kv.value())))));
  }

  /** Applies {@code f} to each value and pairs every result with the key. */
  public <W> PairRDD<K, W> flatMapValues(FlatMapFunction<V, W> f) {
    Objects.requireNonNull(f, "f");
    return new PairRDD<>(
        new MapPartitionsRDD<KV<K, V>, KV<K, W>>(
            this,
            (p, it, tc) ->
                Fn.flatMap(it, kv -> Fn.map(Fn.flat(f, kv.value()), w -> KV.of(kv.key(), w)))));
  }

  /**
   * Merges the values of each key with an associative, commutative {@code f}, combining map-side.
   */
  public PairRDD<K, V> reduceByKey(Function2<V, V, V> f) {
    return reduceByKey(f, defaultPartitioner());
  }

  /** As {@link #reduceByKey(Function2)} into {@code numPartitions} partitions. */
  public PairRDD<K, V> reduceByKey(Function2<V, V, V> f, int numPartitions) {
    return reduceByKey(f, new HashPartitioner(numPartitions));
  }

  /** As {@link #reduceByKey(Function2)} with {@code partitioner}. */
  public PairRDD<K, V> reduceByKey(Function2<V, V, V> f, Partitioner partitioner) {
    Objects.requireNonNull(f, "f");
    return combineByKey(v -> v, f, f, partitioner);
  }

  /** Groups the values of each key (no map-side combine: it would not shrink the data). */
  public PairRDD<K, List<V>> groupByKey() {
    return groupByKey(defaultPartitioner());
  }

  /** As {@link #groupByKey()} into {@code numPartitions} partitions. */
  public PairRDD<K, List<V>> groupByKey(int numPartitions) {
    return groupByKey(new HashPartitioner(numPartitions));
  }

  /** As {@link #groupByKey()} with {@code partitioner}. */
  public PairRDD<K, List<V>> groupByKey(Partitioner partitioner) {
    return new PairRDD<>(
        ShuffledRDD.combining(
            this,
            partitioner,
            new Aggregator<V, List<V>>(
                v -> {
                  List<V> l = new ArrayList<>();
                  l.add(v);
                  return l;
                },
                (l, v) -> {
                  l.add(v);
                  return l;
                },
                (a, b) -> {
                  a.addAll(b);
                  return a;
                },
                false)));
  }

  /**
   * Combines the values of each key: {@code create} turns a key's first value into a combiner,
   * {@code mergeValue} adds a value, {@code mergeCombiners} merges two combiners; map-side
   * combined. {@code mergeValue} and {@code mergeCombiners} must return new objects or mutate only
   * their first argument when it is a combiner they created.
   */
  public <C> PairRDD<K, C> combineByKey(
      Function<V, C> create, Function2<C, V, C> mergeValue, Function2<C, C, C> mergeCombiners) {
    return combineByKey(create, mergeValue, mergeCombiners, defaultPartitioner());
  }

  /**
   * As {@link #combineByKey(Function, Function2, Function2)} into {@code numPartitions} partitions.
   */
  public <C> PairRDD<K, C> combineByKey(
      Function<V, C> create,
      Function2<C, V, C> mergeValue,
      Function2<C, C, C> mergeCombiners,
      int numPartitions) {
    return combineByKey(create, mergeValue, mergeCombiners, new HashPartitioner(numPartitions));
  }

  /** As {@link #combineByKey(Function, Function2, Function2)} with {@code partitioner}. */
  public <C> PairRDD<K, C> combineByKey(
      Function<V, C> create,
      Function2<C, V, C> mergeValue,
      Function2<C, C, C> mergeCombiners,
      Partitioner partitioner) {
    Objects.requireNonNull(create, "create");
    Objects.requireNonNull(mergeValue, "mergeValue");
    Objects.requireNonNull(mergeCombiners, "mergeCombiners");
    Objects.requireNonNull(partitioner, "partitioner");
    return new PairRDD<>(
        ShuffledRDD.combining(
            this, partitioner, new Aggregator<>(create, mergeValue, mergeCombiners, true)));
  }

  /**
   * For each key, the values of this RDD and of {@code other} (empty lists where a side has none).
   * One shuffle over both sides.
   */
  public <W> PairRDD<K, KV<List<V>, List<W>>> cogroup(RDD<KV<K, W>> other) {
    return cogroup(other, defaultPartitioner());
  }

  /** As {@link #cogroup(RDD)} into {@code numPartitions} partitions. */
  public <W> PairRDD<K, KV<List<V>, List<W>>> cogroup(RDD<KV<K, W>> other, int numPartitions) {
    return cogroup(other, new HashPartitioner(numPartitions));
  }

  /** As {@link #cogroup(RDD)} with {@code partitioner}. */
  @SuppressWarnings("unchecked")
  public <W> PairRDD<K, KV<List<V>, List<W>>> cogroup(
      RDD<KV<K, W>> other, Partitioner partitioner) {
    Objects.requireNonNull(other, "other");
    RDD<KV<K, Object>> left = map(kv -> KV.of(kv.key(), (Object) new Tagged(0, kv.value())));
    RDD<KV<K, Object>> right = other.map(kv -> KV.of(kv.key(), (Object) new Tagged(1, kv.value())));
    return PairRDD.of(left.union(right))
        .groupByKey(partitioner)
        .mapValues(
            tagged -> {
              List<V> vs = new ArrayList<>();
              List<W> ws = new ArrayList<>();
              for (Object o : tagged) {
                Tagged t = (Tagged) o;
                if (t.side() == 0) {
                  vs.add((V) t.value());
                } else {
                  ws.add((W) t.value());
                }
              }
              return KV.of(vs, ws);
            });
  }

  /** Inner join: every pair of values of a key present on both sides. */
  public <W> PairRDD<K, KV<V, W>> join(RDD<KV<K, W>> other) {
    return join(other, defaultPartitioner());
  }

  /** As {@link #join(RDD)} into {@code numPartitions} partitions. */
  public <W> PairRDD<K, KV<V, W>> join(RDD<KV<K, W>> other, int numPartitions) {
    return join(other, new HashPartitioner(numPartitions));
  }

  /** As {@link #join(RDD)} with {@code partitioner}. */
  public <W> PairRDD<K, KV<V, W>> join(RDD<KV<K, W>> other, Partitioner partitioner) {
    return cogroup(other, partitioner)
        .flatMapValues(
            g -> {
              List<KV<V, W>> out = new ArrayList<>(g.key().size() * g.value().size());
              for (V v : g.key()) {
                for (W w : g.value()) {
                  out.add(KV.of(v, w));
                }
              }
              return out.iterator();
            });
  }

  /**
   * Left outer join: every value of this side, with each matching value of {@code other} or empty.
   */
  public <W> PairRDD<K, KV<V, Optional<W>>> leftOuterJoin(RDD<KV<K, W>> other) {
    return leftOuterJoin(other, defaultPartitioner());
  }

  /** As {@link #leftOuterJoin(RDD)} into {@code numPartitions} partitions. */
  public <W> PairRDD<K, KV<V, Optional<W>>> leftOuterJoin(RDD<KV<K, W>> other, int numPartitions) {
    return leftOuterJoin(other, new HashPartitioner(numPartitions));
  }

  /** As {@link #leftOuterJoin(RDD)} with {@code partitioner}. */
  public <W> PairRDD<K, KV<V, Optional<W>>> leftOuterJoin(
      RDD<KV<K, W>> other, Partitioner partitioner) {
    return cogroup(other, partitioner)
        .flatMapValues(
            g -> {
              List<KV<V, Optional<W>>> out = new ArrayList<>();
              for (V v : g.key()) {
                if (g.value().isEmpty()) {
                  out.add(KV.of(v, Optional.empty()));
                } else {
                  for (W w : g.value()) {
                    out.add(KV.of(v, Optional.ofNullable(w)));
                  }
                }
              }
              return out.iterator();
            });
  }

  /** Runs a job and returns the pairs as a map (a later pair wins on duplicate keys). Blocks. */
  public Map<K, V> collectAsMap() {
    Map<K, V> map = new HashMap<>();
    for (KV<K, V> kv : collect()) {
      map.put(kv.key(), kv.value());
    }
    return map;
  }

  private Partitioner defaultPartitioner() {
    return new HashPartitioner(context().parallelism());
  }

  private record Tagged(int side, Object value) {}
}
