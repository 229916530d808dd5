package io.sluice.kafka.direct;

import io.sluice.offsets.OffsetRange;
import java.util.List;

/**
 * Spark's commit API, for code ported from {@code spark-streaming-kafka-0-10}: a stream returned by
 * {@link KafkaDirect#createDirectStream} can be cast to this interface.
 */
public interface CanCommitOffsets {

  /**
   * Queues the ranges' {@code untilOffset}s for a commit to the stream's Kafka consumer group. The
   * queue is committed on the driver after the current batch's output operations have all succeeded
   * (and on a graceful stop), never before. Thread-safe, non-blocking.
   */
  void commitAsync(List<OffsetRange> ranges);
}
