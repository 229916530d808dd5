package io.sluice.kafka.direct.internal;

import io.sluice.offsets.OffsetRange;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The records of one offset range, typed: a pull iterator over a checked-out {@link
 * PartitionReader}. The reader goes back to the cache when the range is done, when the iterator
 * fails, or when the task ends early and calls {@link #release()}. Used by one task thread.
 *
 * <p>Either the reader's consumer deserializes (no decoder: its records are handed out as they are)
 * or it reads {@code ByteBuffer} views that a {@link RecordDecoder} types, applying the error
 * policy. Records are taken from the reader a run at a time, so the per-record path is a list
 * access.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class RangeIterator<K, V> implements Iterator<ConsumerRecord<K, V>> {

  private final ConsumerCache cache;
  private final OffsetRange range;

  /** Null when the consumer deserializes. */
  private final RecordDecoder<K, V> decoder;

  /** When the consumer deserializes under the skip policy: where its bad records go; else null. */
  private final PartitionReader.SkippedRecords skipped;

  private final Duration pollTimeout;
  private final KafkaMetrics metrics;
  private ConsumerCache.Lease lease;

  /** The current run when the consumer deserializes. */
  private List<ConsumerRecord<K, V>> run = List.of();

  /** The current run of raw records, for the decoder. */
  private List<ConsumerRecord<ByteBuffer, ByteBuffer>> rawRun = List.of();

  private int index;
  private int end;
  private ConsumerRecord<K, V> next;
  private boolean done;
  private boolean failed;
  private long count;
  private long pollNanosAtStart;

  /**
   * Reads {@code range} with a reader whose consumer reads {@code ByteBuffer} views, typed by
   * {@code decoder}; checks out the range's reader ({@code fresh} for a retried task) and seeks to
   * the range's start.
   */
  public RangeIterator(
      ConsumerCache cache,
      OffsetRange range,
      boolean fresh,
      RecordDecoder<K, V> decoder,
      Duration pollTimeout,
      KafkaMetrics metrics) {
    this(cache, range, fresh, decoder, null, pollTimeout, metrics);
  }

  private RangeIterator(
      ConsumerCache cache,
      OffsetRange range,
      boolean fresh,
      RecordDecoder<K, V> decoder,
      PartitionReader.SkippedRecords skipped,
      Duration pollTimeout,
      KafkaMetrics metrics) {
    this.cache = cache;
    this.range = range;
    this.decoder = decoder;
    this.skipped = skipped;
    this.pollTimeout = pollTimeout;
    this.metrics = metrics;
    if (range.isEmpty()) {
      done = true;
      if (decoder != null) {
        decoder.close();
      }
      metrics.recordsRead(range.topicPartition(), 0);
    } else {
      lease = cache.checkout(range.topicPartition(), range.fromOffset(), fresh);
      pollNanosAtStart = lease.reader().pollNanos();
      try {
        lease.reader().start(range);
      } catch (RuntimeException e) {
        fail();
        throw e;
      }
    }
  }

  /**
   * Reads {@code range} with a reader whose consumer deserializes to {@code K} and {@code V} itself
   * under the fail policy (a bad record fails the range); otherwise as the decoding constructor.
   */
  public RangeIterator(
      ConsumerCache cache,
      OffsetRange range,
      boolean fresh,
      Duration pollTimeout,
      KafkaMetrics metrics) {
    this(cache, range, fresh, null, null, pollTimeout, metrics);
  }

  /**
   * Reads {@code range} with a reader whose consumer deserializes itself under the skip policy: a
   * record it cannot deserialize is logged and counted as skipped, and the range read on after it.
   */
  public static <K, V> RangeIterator<K, V> skippingBadRecords(
      ConsumerCache cache,
      OffsetRange range,
      boolean fresh,
      Duration pollTimeout,
      KafkaMetrics metrics) {
    return new RangeIterator<>(
        cache,
        range,
        fresh,
        null,
        e ->
            RecordDecoder.skipped(
                metrics,
                e.topicPartition().topic(),
                e.topicPartition().partition(),
                e.offset(),
                e.getCause() != null ? e.getCause() : e),
        pollTimeout,
        metrics);
  }

  @Override
  public boolean hasNext() {
    if (decoder == null) {
      return index < end || advance();
    }
    if (next != null) {
      return true;
    }
    try {
      do {
        while (index < end) {
          ConsumerRecord<K, V> typed = decoder.decode(rawRun.get(index++));
          if (typed != null) {
            next = typed;
            count++;
            return true;
          }
        }
      } while (advance());
      return false;
    } catch (RuntimeException e) {
      fail();
      throw e;
    }
  }

  @Override
  public ConsumerRecord<K, V> next() {
    if (decoder == null) {
      if (index >= end && !advance()) {
        throw new NoSuchElementException("range " + range + " is done");
      }
      return run.get(index++);
    }
    if (!hasNext()) {
      throw new NoSuchElementException("range " + range + " is done");
    }
    ConsumerRecord<K, V> r = next;
    next = null;
    return r;
  }

  /** Takes the reader's next run; false (and the reader released) once the range is done. */
  private boolean advance() {
    if (done) {
      return false;
    }
    try {
      PartitionReader reader = lease.reader();
      if (!reader.nextRun(range, pollTimeout, skipped)) {
        complete();
        return false;
      }
      index = reader.runStart();
      end = reader.runEnd();
      if (decoder == null) {
        run = reader.run();
        count += end - index;
      } else {
        rawRun = reader.run();
      }
      return true;
    } catch (RuntimeException e) {
      fail();
      throw e;
    }
  }

  private void complete() {
    if (decoder != null) {
      decoder.finish(range.topicPartition());
    }
    done = true;
    metrics.recordsRead(range.topicPartition(), count);
    metrics.fetchTime(Duration.ofNanos(lease.reader().pollNanos() - pollNanosAtStart));
    release();
  }

  private void fail() {
    failed = true;
    done = true;
    release();
  }

  /**
   * Returns the reader to the cache and closes the decoder; idempotent. A task that stops early
   * must call this (the KafkaRDD registers it as a completion listener).
   */
  public void release() {
    done = true;
    run = List.of();
    rawRun = List.of();
    index = 0;
    end = 0;
    if (lease != null) {
      ConsumerCache.Lease l = lease;
      lease = null;
      try {
        if (decoder != null) {
          decoder.close();
        }
      } finally {
        cache.checkin(l, !failed);
      }
    }
  }
}
