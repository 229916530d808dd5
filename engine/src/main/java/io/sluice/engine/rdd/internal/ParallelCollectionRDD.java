package io.sluice.engine.rdd.internal;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** An in-memory list cut into contiguous slices. */
public final class ParallelCollectionRDD<T> extends RDD<T> {

  private final List<T> data;
  private final int slices;

  /** Slices a snapshot of {@code data} into {@code slices} partitions. */
  public ParallelCollectionRDD(StreamingContext context, List<T> data, int slices) {
    super(context);
    if (slices < 0) {
      throw new IllegalArgumentException("numSlices must be >= 0, was " + slices);
    }
    if (slices == 0 && !data.isEmpty()) {
      throw new IllegalArgumentException("numSlices must be > 0 for non-empty data, was 0");
    }
    this.data = new ArrayList<>(data);
    this.slices = slices;
  }

  /** The number of elements. */
  public int size() {
    return data.size();
  }

  @Override
  public int numPartitions() {
    return slices;
  }

  @Override
  public Iterator<T> compute(int partition, TaskContext ctx) {
    int from = (int) ((long) partition * data.size() / slices);
    int until = (int) ((long) (partition + 1) * data.size() / slices);
    return data.subList(from, until).iterator();
  }
}
