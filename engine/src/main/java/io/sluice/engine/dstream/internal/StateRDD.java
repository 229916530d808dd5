package io.sluice.engine.dstream.internal;

import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.engine.state.internal.StateOperator;
import io.sluice.engine.state.internal.StatePartition;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One batch of a state operator: partition {@code p} applies the batch's grouped input to its state
 * partition once, under its lock, and keeps the result, so that the state changes once per batch
 * however many jobs or task attempts read the partition. A computation that fails rolls the state
 * partition back, and the next attempt computes again.
 *
 * <p>The state partition of {@code p} is the operator's partition {@code p} (keys hashed by the
 * operator's partitioner), or, when the operator keeps its state per source partition (group mode),
 * the state of the Kafka partition that {@code p} reads; then the batch's changes are recorded for
 * the changelog.
 *
 * @param <K> the state's key type
 * @param <V> the state's stored value type
 * @param <I> the grouped input's element type
 * @param <R> result element type
 */
final class StateRDD<K, V, I, R> extends RDD<R> {

  /** Applies one partition of the batch; called under the state partition's lock. */
  @FunctionalInterface
  interface PartitionUpdate<K, V, I, R> {
    List<R> apply(StatePartition<K, V> part, Iterator<I> input);
  }

  private final RDD<I> grouped;
  private final StateOperator<K, V> operator;
  private final long batchId;
  private final String[] sources; // null: hashed partitions
  private final PartitionUpdate<K, V, I, R> update;
  private final AtomicReferenceArray<List<R>> results;

  StateRDD(
      RDD<I> grouped,
      StateOperator<K, V> operator,
      long batchId,
      String[] sources,
      PartitionUpdate<K, V, I, R> update) {
    super(grouped.context());
    this.grouped = grouped;
    this.operator = operator;
    this.batchId = batchId;
    this.sources = sources;
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

  /** The state partition that partition {@code partition} of this batch updates. */
  StatePartition<K, V> statePartition(int partition) {
    return sources == null
        ? operator.partition(partition)
        : operator.sourcePartition(sources[partition], batchId);
  }

  @Override
  public Iterator<R> compute(int partition, TaskContext ctx) {
    StatePartition<K, V> part = statePartition(partition);
    synchronized (part.lock()) {
      List<R> done = results.get(partition);
      if (done == null) {
        done = update.apply(part, grouped.iterator(partition, ctx));
        if (sources != null) {
          operator.recordChanges(sources[partition], part, batchId);
        }
        results.set(partition, done);
      }
      return done.iterator();
    }
  }
}
