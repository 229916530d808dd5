package io.sluice.engine.rdd;

import java.util.Objects;

/**
 * Partitions by {@code key.hashCode()} modulo the number of partitions (null keys go to partition
 * 0).
 *
 * @param numPartitions number of partitions, > 0
 */
public record HashPartitioner(int numPartitions) implements Partitioner {

  /** Validates the number of partitions. */
  public HashPartitioner {
    if (numPartitions <= 0) {
      throw new IllegalArgumentException("numPartitions must be > 0, was " + numPartitions);
    }
  }

  @Override
  public int partition(Object key) {
    return Math.floorMod(Objects.hashCode(key), numPartitions);
  }
}
