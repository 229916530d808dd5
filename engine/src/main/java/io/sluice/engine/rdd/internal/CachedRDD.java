package io.sluice.engine.rdd.internal;

import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Keeps each partition in memory once computed. When every partition is cached the parent is
 * dropped, so the lineage (and the memory it holds) is cut: incremental windows chain each window
 * to the previous one, and without the cut the chain would grow with every slide.
 */
public final class CachedRDD<T> extends RDD<T> implements OneToOne {

  private volatile RDD<T> parent;
  private final int partitions;
  private final AtomicReferenceArray<List<T>> cache;
  private final AtomicInteger cached = new AtomicInteger();

  /** Caches {@code parent}. */
  public CachedRDD(RDD<T> parent) {
    super(parent.context());
    this.parent = parent;
    this.partitions = parent.numPartitions();
    this.cache = new AtomicReferenceArray<>(partitions);
  }

  @Override
  public RDD<?> parent() {
    return parent;
  }

  @Override
  public int numPartitions() {
    return partitions;
  }

  @Override
  public List<Dependency> dependencies() {
    RDD<T> p = parent;
    return p == null ? List.of() : List.of(Dependency.narrow(p));
  }

  @Override
  public Iterator<T> compute(int partition, TaskContext ctx) {
    List<T> data = cache.get(partition);
    if (data == null) {
      RDD<T> p = parent;
      List<T> computed = new ArrayList<>();
      if (p != null) {
        p.iterator(partition, ctx).forEachRemaining(computed::add);
      }
      if (cache.compareAndSet(partition, null, computed)) {
        if (cached.incrementAndGet() == partitions) {
          parent = null;
        }
        data = computed;
      } else {
        data = cache.get(partition);
      }
    }
    return data.iterator();
  }
}
