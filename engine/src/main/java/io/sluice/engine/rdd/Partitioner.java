package io.sluice.engine.rdd;

/** Assigns keys to partitions in a shuffle. Must be deterministic and thread-safe. */
public interface Partitioner {

  /** The number of partitions, > 0. */
  int numPartitions();

  /** The partition of {@code key}, in {@code [0, numPartitions())}. */
  int partition(Object key);
}
