package io.sluice.engine.rdd.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * The in-memory partitions of a cached RDD. A partition is kept the first time a task computes it
 * to the end; two tasks computing it at once both compute, and the first to finish is kept. A
 * computation that fails keeps nothing. Thread-safe.
 *
 * @param <T> element type
 */
public final class PartitionCache<T> {

  private final AtomicReferenceArray<List<T>> partitions;

  /** An empty cache of {@code numPartitions} partitions. */
  public PartitionCache(int numPartitions) {
    this.partitions = new AtomicReferenceArray<>(numPartitions);
  }

  /**
   * The partition's elements: from memory, or computed to the end with {@code compute} and kept.
   * Task thread; blocks while computing.
   */
  public Iterator<T> get(int partition, Supplier<Iterator<T>> compute) {
    List<T> kept = partitions.get(partition);
    if (kept == null) {
      List<T> computed = new ArrayList<>();
      compute.get().forEachRemaining(computed::add);
      kept =
          partitions.compareAndSet(partition, null, computed)
              ? computed
              : partitions.get(partition);
    }
    return kept.iterator();
  }
}
