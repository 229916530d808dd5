package io.sluice.engine.dstream.internal;

import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.engine.state.internal.StateOperator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One batch of a state operator: partition {@code p} applies the batch's grouped input to state
 * partition {@code p} once, under its lock, and keeps the result, so that the state changes once
 * per batch however many jobs or task attempts read the partition. A computation that fails rolls
 * the state partition back, and the next attempt computes again.
 *
 * @param <I> the grouped input's element type
 * @param <R> result element type
 */
final class StateRDD<I, R> extends RDD<R> {

  /** Applies one partition of the batch; called under the state partition's lock. */
  @FunctionalInterface
  interface PartitionUpdate<I, R> {
    List<R> apply(int partition, Iterator<I> input);
  }

  private final RDD<I> grouped;
  private final StateOperator<?, ?> operator;
  private final PartitionUpdate<I, R> update;
  private final AtomicReferenceArray<List<R>> results;

  StateRDD(RDD<I> grouped, StateOperator<?, ?> operator, PartitionUpdate<I, R> update) {
    super(grouped.context());
    this.grouped = grouped;
    this.operator = operator;
    this.update = update;
    this.results = new AtomicReferenceArray<>(grouped.numPartitions());
  }

  @Override
  public int numPartitions() {
    return results.length();
  }

  @Override
  public List<Dependency> dependencies() {
    return List.of(Dependency.narrow(grouped));
  }

  @Override
  public Iterator<R> compute(int partition, TaskContext ctx) {
    synchronized (operator.partition(partition).lock()) {
      List<R> done = results.get(partition);
      if (done == null) {
        done = update.apply(partition, grouped.iterator(partition, ctx));
        results.set(partition, done);
      }
      return done.iterator();
    }
  }
}
