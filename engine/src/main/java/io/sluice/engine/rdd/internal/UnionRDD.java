package io.sluice.engine.rdd.internal;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.Iterator;
import java.util.List;

/** Concatenates the partitions of its parents. */
public final class UnionRDD<T> extends RDD<T> {

  private final List<RDD<T>> parents;

  /** The union of {@code parents}, in order. */
  public UnionRDD(StreamingContext context, List<RDD<T>> parents) {
    super(context);
    this.parents = List.copyOf(parents);
  }

  @Override
  public int numPartitions() {
    int n = 0;
    for (RDD<T> p : parents) {
      n += p.numPartitions();
    }
    return n;
  }

  @Override
  public List<Dependency> dependencies() {
    return parents.stream().map(Dependency::narrow).toList();
  }

  @Override
  public Iterator<T> compute(int partition, TaskContext ctx) {
    int p = partition;
    for (RDD<T> parent : parents) {
      int n = parent.numPartitions();
      if (p < n) {
        return parent.iterator(p, ctx);
      }
      p -= n;
    }
    throw new IndexOutOfBoundsException("partition " + partition + " of " + numPartitions());
  }
}
