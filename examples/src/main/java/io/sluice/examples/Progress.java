package io.sluice.examples;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.OffsetRange;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;

/**
 * Prints one line per completed batch: id, records, processing time and the lag left behind it
 * (offsets written to the topic but beyond the batch's ranges). Learns each batch's ranges by
 * watching the input stream's RDDs, so it adds no output operation to the pipeline.
 */
public final class Progress implements StreamingListener {

  private final String label;
  private final PrintStream out;
  private final Supplier<Map<TopicPartition, Long>> endOffsets;
  private final Map<Instant, List<OffsetRange>> rangesByBatchTime = new ConcurrentHashMap<>();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong records = new AtomicLong();
  private final Map<TopicPartition, Long> completedUntil = new ConcurrentHashMap<>();

  /**
   * @param label a word in front of every line
   * @param out where the lines go
   * @param endOffsets the topic's current end offsets (must be cheap: called on an engine thread)
   */
  public Progress(String label, PrintStream out, Supplier<Map<TopicPartition, Long>> endOffsets) {
    this.label = label;
    this.out = out;
    this.endOffsets = endOffsets;
  }

  /**
   * Returns {@code input} observed: each batch's offset ranges are remembered for its progress
   * line.
   */
  public <T> DStream<T> track(DStream<T> input) {
    return input.transform(
        (rdd, time) -> {
          if (rdd instanceof HasOffsetRanges h) {
            rangesByBatchTime.put(time, h.offsetRanges());
          }
          return rdd;
        });
  }

  @Override
  public void onBatchCompleted(BatchInfo batch) {
    List<OffsetRange> ranges = rangesByBatchTime.remove(batch.batchTime());
    long lag = -1;
    if (ranges != null) {
      ranges.forEach(r -> completedUntil.merge(r.topicPartition(), r.untilOffset(), Math::max));
      Map<TopicPartition, Long> end = endOffsets.get();
      lag = 0;
      for (OffsetRange r : ranges) {
        lag += Math.max(0, end.getOrDefault(r.topicPartition(), r.untilOffset()) - r.untilOffset());
      }
    }
    batches.incrementAndGet();
    records.addAndGet(Math.max(0, batch.numRecords()));
    out.printf(
        "%s batch %4d  records %6d  processing %4d ms  lag %6s%n",
        label,
        batch.batchId(),
        batch.numRecords(),
        batch.processingTime().map(Duration::toMillis).orElse(-1L),
        lag < 0 ? "?" : Long.toString(lag));
  }

  @Override
  public void onBatchFailed(BatchInfo batch, Throwable cause) {
    out.printf("%s batch %4d  FAILED: %s%n", label, batch.batchId(), cause);
  }

  /** Per partition, the end of the ranges of the batches completed (and so committed) so far. */
  public Map<TopicPartition, Long> completedUntil() {
    return Map.copyOf(completedUntil);
  }

  /** Batches completed so far. */
  public long batches() {
    return batches.get();
  }

  /** Offsets covered by the completed batches (records plus any gaps). */
  public long records() {
    return records.get();
  }
}
