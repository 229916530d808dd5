package io.sluice.engine.rdd.internal;

import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.List;

/**
 * An RDD that reads its parent through a shuffle. The scheduler runs the map side (one task per
 * parent partition) before any task reads this RDD, and stores the buckets here, once.
 */
public interface ShuffleStage {

  /** The RDD whose partitions are bucketed. */
  RDD<?> mapSide();

  /** Whether the map outputs are in memory already. */
  boolean materialized();

  /** Computes and buckets one parent partition; runs on a task thread. */
  Object runMapTask(int partition, TaskContext ctx);

  /** Stores the map outputs, one per parent partition, in partition order. */
  void setMapOutputs(List<Object> outputs);
}
