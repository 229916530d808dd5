package io.sluice.offsets;

import java.util.List;

/**
 * Something that knows the Kafka offset ranges of one batch: a {@code KafkaRDD}, or the plan a
 * Kafka input stream records for a batch. As in Spark, cast a batch's RDD to this interface to see
 * exactly what it read.
 */
public interface HasOffsetRanges {

  /** The ranges, one per topic-partition, in a stable order. */
  List<OffsetRange> offsetRanges();
}
