package io.sluice.engine.rdd.internal;

import io.sluice.engine.KV;
import io.sluice.engine.function.Function;
import io.sluice.engine.function.Function2;
import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.Partitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The reduce side of an in-memory shuffle. Map outputs (one bucket array per parent partition,
 * combined per key when an aggregator combines map-side) are held once, here, for as long as the
 * RDD is reachable; reduce tasks and retries read them without copying them.
 *
 * @param <K> key type
 * @param <V> parent value type
 * @param <C> combined value type (V when there is no aggregator)
 */
public final class ShuffledRDD<K, V, C> extends RDD<KV<K, C>> implements ShuffleStage {

  /**
   * How values of one key combine.
   *
   * @param create first value to combiner
   * @param mergeValue adds a value to a combiner
   * @param mergeCombiners merges two combiners
   * @param mapSideCombine whether map tasks combine before bucketing
   */
  public record Aggregator<V, C>(
      Function<V, C> create,
      Function2<C, V, C> mergeValue,
      Function2<C, C, C> mergeCombiners,
      boolean mapSideCombine) {}

  private final RDD<KV<K, V>> parent;
  private final Partitioner partitioner;
  private final Aggregator<V, C> aggregator;
  private volatile List<Object> mapOutputs;

  private ShuffledRDD(RDD<KV<K, V>> parent, Partitioner partitioner, Aggregator<V, C> aggregator) {
    super(parent.context());
    this.parent = parent;
    this.partitioner = partitioner;
    this.aggregator = aggregator;
  }

  /** A shuffle that only moves records to their key's partition. */
  public static <K, V> ShuffledRDD<K, V, V> plain(RDD<KV<K, V>> parent, Partitioner partitioner) {
    return new ShuffledRDD<>(parent, partitioner, null);
  }

  /** A shuffle that combines the values of each key. */
  public static <K, V, C> ShuffledRDD<K, V, C> combining(
      RDD<KV<K, V>> parent, Partitioner partitioner, Aggregator<V, C> aggregator) {
    return new ShuffledRDD<>(parent, partitioner, aggregator);
  }

  /** The partitioner. */
  public Partitioner partitioner() {
    return partitioner;
  }

  @Override
  public int numPartitions() {
    return partitioner.numPartitions();
  }

  @Override
  public List<Dependency> dependencies() {
    return List.of(Dependency.shuffle(parent));
  }

  @Override
  public RDD<?> mapSide() {
    return parent;
  }

  @Override
  public boolean materialized() {
    return mapOutputs != null;
  }

  @Override
  public void setMapOutputs(List<Object> outputs) {
    this.mapOutputs = List.copyOf(outputs);
  }

  @Override
  public Object runMapTask(int partition, TaskContext ctx) {
    int n = partitioner.numPartitions();
    Iterator<KV<K, V>> in = parent.iterator(partition, ctx);
    if (aggregator != null && aggregator.mapSideCombine()) {
      List<Map<K, C>> buckets = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        buckets.add(new HashMap<>());
      }
      while (in.hasNext()) {
        KV<K, V> kv = in.next();
        Map<K, C> bucket = buckets.get(partitioner.partition(kv.key()));
        C existing = bucket.get(kv.key());
        C combined =
            existing == null && !bucket.containsKey(kv.key())
                ? Fn.call(aggregator.create(), kv.value())
                : Fn.call(aggregator.mergeValue(), existing, kv.value());
        bucket.put(kv.key(), combined);
      }
      return buckets;
    }
    List<List<KV<K, V>>> buckets = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      buckets.add(new ArrayList<>());
    }
    while (in.hasNext()) {
      KV<K, V> kv = in.next();
      buckets.get(partitioner.partition(kv.key())).add(kv);
    }
    return buckets;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Iterator<KV<K, C>> compute(int partition, TaskContext ctx) {
    List<Object> outputs = mapOutputs;
    if (outputs == null) {
      throw new IllegalStateException("shuffle " + id() + " read before its map stage ran");
    }
    if (aggregator == null) {
      return Fn.concat(
          outputs.size(), i -> ((List<List<KV<K, C>>>) outputs.get(i)).get(partition).iterator());
    }
    Map<K, C> merged = new HashMap<>();
    if (aggregator.mapSideCombine()) {
      for (Object output : outputs) {
        for (Map.Entry<K, C> e : ((List<Map<K, C>>) output).get(partition).entrySet()) {
          K key = e.getKey();
          if (merged.containsKey(key)) {
            merged.put(key, Fn.call(aggregator.mergeCombiners(), merged.get(key), e.getValue()));
          } else {
            merged.put(key, e.getValue());
          }
        }
      }
    } else {
      for (Object output : outputs) {
        for (KV<K, V> kv : ((List<List<KV<K, V>>>) output).get(partition)) {
          K key = kv.key();
          if (merged.containsKey(key)) {
            merged.put(key, Fn.call(aggregator.mergeValue(), merged.get(key), kv.value()));
          } else {
            merged.put(key, Fn.call(aggregator.create(), kv.value()));
          }
        }
      }
    }
    return Fn.map(merged.entrySet().iterator(), e -> KV.of(e.getKey(), e.getValue()));
  }
}
