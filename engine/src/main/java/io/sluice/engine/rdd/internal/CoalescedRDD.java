package io.sluice.engine.rdd.internal;

import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.Iterator;
import java.util.List;

/** Merges contiguous parent partitions without a shuffle. */
public final class CoalescedRDD<T> extends RDD<T> {

  private final RDD<T> parent;
  private final int partitions;

  /** Coalesces {@code parent} into at most {@code target} partitions (at least one). */
  public CoalescedRDD(RDD<T> parent, int target) {
    super(parent.context());
    this.parent = parent;
    this.partitions = Math.max(1, Math.min(target, parent.numPartitions()));
  }

  @Override
  public int numPartitions() {
    return partitions;
  }

  @Override
  public List<Dependency> dependencies() {
    return List.of(Dependency.narrow(parent));
  }

  @Override
  public Iterator<T> compute(int partition, TaskContext ctx) {
    int parentCount = parent.numPartitions();
    int from = (int) ((long) partition * parentCount / partitions);
    int until = (int) ((long) (partition + 1) * parentCount / partitions);
    return Fn.concat(until - from, i -> parent.iterator(from + i, ctx));
  }
}
