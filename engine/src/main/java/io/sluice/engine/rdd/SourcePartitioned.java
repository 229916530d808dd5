package io.sluice.engine.rdd;

/**
 * An RDD whose every partition reads one partition of an external source, such as a Kafka
 * topic-partition. Keyed state over such an RDD (through one-to-one transformations only) can be
 * kept per source partition, so that it follows the source partition when another process takes it
 * over.
 */
public interface SourcePartitioned {

  /**
   * The source partition that RDD partition {@code partition} reads, as a stable name (for Kafka
   * {@code <topic>-<partition>}).
   */
  String sourcePartition(int partition);
}
