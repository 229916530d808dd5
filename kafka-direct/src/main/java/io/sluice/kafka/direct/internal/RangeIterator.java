package io.sluice.kafka.direct.internal;

import io.sluice.offsets.OffsetRange;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The records of one offset range, typed: a pull iterator over a checked-out {@link PartitionReader}.
 * The reader goes back to the cache when the range is done, when the iterator fails, or when the
 * task ends early and calls {@link #release()}. Used by one task thread.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class RangeIterator<K, V> implements Iterator<ConsumerRecord<K, V>> {

  private final ConsumerCache cache;
  private final OffsetRange range;
  private final RecordDecoder<K, V> decoder;
  private final Duration pollTimeout;
  private final KafkaMetrics metrics;
  private ConsumerCache.Lease lease;
  private ConsumerRecord<K, V> next;
  private boolean done;
  private boolean failed;
  private long count;
  private long pollNanosAtStart;

  /** Checks out the range's reader ({@code fresh} for a retried task) and seeks to the range's start. */
  public RangeIterator(ConsumerCache cache, OffsetRange range, boolean fresh, RecordDecoder<K, V> decoder,
      Duration pollTimeout, KafkaMetrics metrics) {
    this.cache = cache;
    this.range = range;
    this.decoder = decoder;
    this.pollTimeout = pollTimeout;
    this.metrics = metrics;
    if (range.isEmpty()) {
      done = true;
      decoder.close();
      metrics.recordsRead(range.topicPartition(), 0);
    } else {
      lease = cache.checkout(range.topicPartition(), fresh);
      pollNanosAtStart = lease.reader().pollNanos();
      try {
        lease.reader().start(range);
      } catch (RuntimeException e) {
        fail();
        throw e;
      }
    }
  }

  @Override
  public boolean hasNext() {
    if (next != null) {
      return true;
    }
    if (done) {
      return false;
    }
    try {
      while (true) {
        ConsumerRecord<ByteBuffer, ByteBuffer> raw = lease.reader().next(range, pollTimeout);
        if (raw == null) {
          complete();
          return false;
        }
        ConsumerRecord<K, V> typed = decoder.decode(raw);
        if (typed != null) {
          next = typed;
          count++;
          return true;
        }
      }
    } catch (RuntimeException e) {
      fail();
      throw e;
    }
  }

  @Override
  public ConsumerRecord<K, V> next() {
    if (!hasNext()) {
      throw new NoSuchElementException("range " + range + " is done");
    }
    ConsumerRecord<K, V> r = next;
    next = null;
    return r;
  }

  private void complete() {
    decoder.finish();
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
   * Returns the reader to the cache and closes the decoder; idempotent. A task that stops
   * early must call this (the KafkaRDD registers it as a completion listener).
   */
  public void release() {
    done = true;
    if (lease != null) {
      ConsumerCache.Lease l = lease;
      lease = null;
      try {
        decoder.close();
      } finally {
        cache.checkin(l, !failed);
      }
    }
  }
}
