package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.FetchTimeoutException;
import io.sluice.offsets.OffsetRange;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads offset ranges of one topic-partition with one consumer of {@code ByteBuffer} views, by position: records
 * outside {@code [from, until)} are never returned, and a range is done once the consumer's
 * position reaches {@code until}, which also covers compaction gaps and transaction markers
 * (including a trailing marker, after which no record ever arrives).
 *
 * <p>Records fetched past a range's end are kept, so a following range starting where this one
 * ended continues without seeking or re-fetching. Not thread-safe: one owner at a time (see
 * {@link ConsumerCache}).
 */
public final class PartitionReader implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PartitionReader.class);
  /** Short polls, so that a position moved by a marker alone is noticed quickly. */
  private static final long POLL_SLICE_MS = 50;

  private final Consumer<ByteBuffer, ByteBuffer> consumer;
  private final TopicPartition tp;
  private final DataLossPolicy dataLossPolicy;
  private List<ConsumerRecord<ByteBuffer, ByteBuffer>> buffer = List.of();
  private int index;
  /** Everything below this offset has been handed out or skipped; -1 before the first range. */
  private long consumedUntil = -1;
  private long skippedOffsets;
  private long pollNanos;

  /** Takes ownership of {@code consumer} and assigns it to {@code tp}. */
  public PartitionReader(Consumer<ByteBuffer, ByteBuffer> consumer, TopicPartition tp, DataLossPolicy dataLossPolicy) {
    this.consumer = Objects.requireNonNull(consumer, "consumer");
    this.tp = Objects.requireNonNull(tp, "tp");
    this.dataLossPolicy = Objects.requireNonNull(dataLossPolicy, "dataLossPolicy");
    consumer.assign(List.of(tp));
  }

  /** The partition this reader reads. */
  public TopicPartition topicPartition() {
    return tp;
  }

  /** Offsets skipped because retention deleted them while reading, under {@link DataLossPolicy#SKIP}. */
  public long skippedOffsets() {
    return skippedOffsets;
  }

  /** Total time spent in {@code poll} (fetching), for the fetch-time metric. */
  public long pollNanos() {
    return pollNanos;
  }

  /** Starts reading {@code range}; seeks only when the range does not continue the previous one. */
  public void start(OffsetRange range) {
    if (!range.topicPartition().equals(tp)) {
      throw new IllegalArgumentException("range " + range + " is not of partition " + tp);
    }
    if (range.fromOffset() != consumedUntil) {
      buffer = List.of();
      index = 0;
      consumer.seek(tp, range.fromOffset());
      consumedUntil = range.fromOffset();
    }
  }

  /**
   * The next record of {@code range}, or null once the range is done. Blocks while polling;
   * fails with {@link FetchTimeoutException} after {@code pollTimeout} without progress.
   */
  public ConsumerRecord<ByteBuffer, ByteBuffer> next(OffsetRange range, Duration pollTimeout) {
    long until = range.untilOffset();
    long lastProgress = System.nanoTime();
    while (true) {
      if (index < buffer.size()) {
        ConsumerRecord<ByteBuffer, ByteBuffer> r = buffer.get(index);
        if (r.offset() >= until) {
          consumedUntil = until;
          return null;
        }
        index++;
        consumedUntil = r.offset() + 1;
        if (r.offset() >= range.fromOffset()) {
          return r;
        }
        continue;
      }
      long position = consumer.position(tp);
      if (position >= until) {
        consumedUntil = until;
        return null;
      }
      if (poll(range)) {
        lastProgress = System.nanoTime();
      } else if (consumer.position(tp) > position) {
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > pollTimeout.toNanos()) {
        throw new FetchTimeoutException("no progress reading " + range + " for " + pollTimeout.toMillis()
            + " ms: position stuck at " + position + " (topic " + tp.topic() + ", partition " + tp.partition()
            + ", offsets [" + range.fromOffset() + ", " + until + ")); is the broker reachable?");
      }
    }
  }

  private boolean poll(OffsetRange range) {
    ConsumerRecords<ByteBuffer, ByteBuffer> records;
    long t0 = System.nanoTime();
    try {
      records = consumer.poll(Duration.ofMillis(POLL_SLICE_MS));
    } catch (OffsetOutOfRangeException e) {
      handleOutOfRange(range, e);
      return true;
    } finally {
      pollNanos += System.nanoTime() - t0;
    }
    if (records.isEmpty()) {
      return false;
    }
    buffer = records.records(tp);
    index = 0;
    return true;
  }

  private void handleOutOfRange(OffsetRange range, OffsetOutOfRangeException e) {
    long expected = e.offsetOutOfRangePartitions().getOrDefault(tp, consumedUntil);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(List.of(tp));
    Map<TopicPartition, Long> end = consumer.endOffsets(List.of(tp));
    long logStart = begin.getOrDefault(tp, -1L);
    if (dataLossPolicy == DataLossPolicy.FAIL || logStart < expected) {
      throw new DataLossException(tp, expected, logStart, end.getOrDefault(tp, -1L));
    }
    long target = Math.min(logStart, range.untilOffset());
    log.warn("data loss on {} while reading {}: offsets [{}, {}) were deleted, skipping to {}",
        tp, range, expected, logStart, target);
    skippedOffsets += target - expected;
    buffer = List.of();
    index = 0;
    consumer.seek(tp, target);
    consumedUntil = target;
  }

  /** Closes the consumer; idempotent as far as Kafka's consumer is. */
  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
  }
}
