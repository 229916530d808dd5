package io.sluice.engine.rdd.internal;

import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.Iterator;
import java.util.List;

/** A narrow one-to-one transformation; chains of them fuse into one task per partition. */
public final class MapPartitionsRDD<T, U> extends RDD<U> implements OneToOne {

  /** Transforms one partition's iterator. */
  @FunctionalInterface
  public interface PartitionTransform<T, U> {
    /** Returns the child partition's iterator. */
    Iterator<U> apply(int partition, Iterator<T> in, TaskContext ctx);
  }

  private final RDD<T> parent;
  private final PartitionTransform<T, U> transform;

  /** Creates the child of {@code parent}. */
  public MapPartitionsRDD(RDD<T> parent, PartitionTransform<T, U> transform) {
    super(parent.context());
    this.parent = parent;
    this.transform = transform;
  }

  @Override
  public RDD<?> parent() {
    return parent;
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
  public Iterator<U> compute(int partition, TaskContext ctx) {
    return transform.apply(partition, parent.iterator(partition, ctx), ctx);
  }
}
