package io.sluice.engine.dstream.internal;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import io.sluice.engine.rdd.internal.UnionRDD;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/**
 * An input taking one queued RDD per batch (or everything queued), for tests and demos. Not
 * recoverable: the queued data lives only in memory.
 */
public final class QueueInputDStream<T> extends InputDStream<T, QueueInputDStream.QueuePlan> {

  /**
   * What a batch took from the queue.
   *
   * @param items RDDs dequeued
   * @param records records in them, or -1 when unknown
   */
  public record QueuePlan(int items, long records) {}

  private final Queue<RDD<T>> queue;
  private final boolean oneAtATime;
  private final RDD<T> defaultRdd;
  private final Map<Long, List<RDD<T>>> taken = new HashMap<>();

  /** A queue input. */
  public QueueInputDStream(
      StreamingContext ctx,
      String name,
      Queue<RDD<T>> queue,
      boolean oneAtATime,
      RDD<T> defaultRdd) {
    super(ctx, name, QueuePlan.class);
    this.queue = queue;
    this.oneAtATime = oneAtATime;
    this.defaultRdd = defaultRdd;
  }

  @Override
  public QueuePlan plan(long batchId, Instant batchTime) {
    List<RDD<T>> rdds = new ArrayList<>();
    RDD<T> next;
    while ((next = queue.poll()) != null) {
      rdds.add(next);
      if (oneAtATime) {
        break;
      }
    }
    if (rdds.isEmpty() && defaultRdd != null) {
      rdds.add(defaultRdd);
    }
    long records = 0;
    for (RDD<T> r : rdds) {
      if (r instanceof ParallelCollectionRDD<T> p && records >= 0) {
        records += p.size();
      } else {
        records = -1;
      }
    }
    taken.put(batchId, rdds);
    return new QueuePlan(rdds.size(), records);
  }

  @Override
  public RDD<T> compute(long batchId, Instant batchTime, QueuePlan plan) {
    List<RDD<T>> rdds = taken.remove(batchId);
    if (rdds == null) {
      throw new IllegalStateException(
          "queue input '"
              + name()
              + "' cannot rebuild batch "
              + batchId
              + ": queued data is not recoverable");
    }
    if (rdds.isEmpty()) {
      return new ParallelCollectionRDD<>(context(), List.of(), 0);
    }
    return rdds.size() == 1 ? rdds.get(0) : new UnionRDD<>(context(), rdds);
  }

  @Override
  public long recordCount(QueuePlan plan) {
    return plan.records();
  }
}
