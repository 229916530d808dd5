package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.BadRecordException;
import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.FetchTimeoutException;
import io.sluice.offsets.OffsetRange;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads offset ranges of one topic-partition with one consumer, by position: records outside {@code
 * [from, until)} are never returned, and a range is done once the consumer's position reaches
 * {@code until}, which also covers compaction gaps and transaction markers (including a trailing
 * marker, after which no record ever arrives).
 *
 * <p>The consumer either hands out {@code ByteBuffer} views (the task decodes them, applying the
 * stream's error policy) or deserializes with the user's deserializers itself; the reader does not
 * care, and callers ask for records with the key and value types of the consumer they gave it. A
 * record the consumer cannot deserialize fails the range with {@link BadRecordException} if it lies
 * inside the range — or, given a handler for skipped records (the skip policy), is handed to it and
 * read past — and ends the range if it lies past it (it is never looked at there).
 *
 * <p>Records are handed out in runs: slices of one poll's records for the partition, cut at {@code
 * until}, so the caller iterates a list instead of paying for bookkeeping per record. Records
 * fetched past a range's end are kept, so a following range starting where this one ended continues
 * without seeking or re-fetching. Not thread-safe: one owner at a time (see {@link ConsumerCache}).
 */
public final class PartitionReader implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PartitionReader.class);

  /** Short polls, so that a position moved by a marker alone is noticed quickly. */
  private static final long POLL_SLICE_MS = 50;

  /**
   * Task consumers never commit and hold no group membership, so nothing is lost by not waiting for
   * the in-flight fetch (up to {@code fetch.max.wait.ms}) or the fetch-session close on close.
   */
  private static final Duration CLOSE_TIMEOUT = Duration.ZERO;

  private final Consumer<?, ?> consumer;
  private final TopicPartition tp;
  private final DataLossPolicy dataLossPolicy;
  private List<? extends ConsumerRecord<?, ?>> buffer = List.of();

  /** The first record of {@code buffer} not yet handed out in a run. */
  private int index;

  private int runStart;
  private int runEnd;

  /** The per-record cursor of {@link #next}, inside the current run. */
  private int cursor;

  /** Everything below this offset has been handed out or skipped; -1 before the first range. */
  private long consumedUntil = -1;

  private long skippedOffsets;
  private long pollNanos;

  /** Told of each record of a range the consumer could not deserialize, under the skip policy. */
  @FunctionalInterface
  public interface SkippedRecords {
    /** {@code e} names the record's partition and offset; the reader continues after it. */
    void skipped(RecordDeserializationException e);
  }

  /** Takes ownership of {@code consumer} and assigns it to {@code tp}. */
  public PartitionReader(
      Consumer<?, ?> consumer, TopicPartition tp, DataLossPolicy dataLossPolicy) {
    this.consumer = Objects.requireNonNull(consumer, "consumer");
    this.tp = Objects.requireNonNull(tp, "tp");
    this.dataLossPolicy = Objects.requireNonNull(dataLossPolicy, "dataLossPolicy");
    consumer.assign(List.of(tp));
  }

  /** The partition this reader reads. */
  public TopicPartition topicPartition() {
    return tp;
  }

  /**
   * Offsets skipped because retention deleted them while reading, under {@link
   * DataLossPolicy#SKIP}.
   */
  public long skippedOffsets() {
    return skippedOffsets;
  }

  /** Total time spent in {@code poll} (fetching), for the fetch-time metric. */
  public long pollNanos() {
    return pollNanos;
  }

  /** The offset this reader continues from without a seek, or -1 before its first range. */
  long consumedUntil() {
    return consumedUntil;
  }

  /** Starts reading {@code range}; seeks only when the range does not continue the previous one. */
  public void start(OffsetRange range) {
    if (!range.topicPartition().equals(tp)) {
      throw new IllegalArgumentException("range " + range + " is not of partition " + tp);
    }
    runStart = 0;
    runEnd = 0;
    cursor = 0;
    if (range.fromOffset() != consumedUntil) {
      buffer = List.of();
      index = 0;
      consumer.seek(tp, range.fromOffset());
      consumedUntil = range.fromOffset();
    }
  }

  /**
   * Starts {@code range} and polls once, for up to {@code maxWait}, keeping what arrives: the
   * range's first records then wait here for the reader's owner, who reads on as if it had polled
   * them itself (a fetch still in flight is received by its first poll). Failures propagate and
   * leave the reader unfit for use. For a reader that has no owner yet (see {@link
   * ConsumerCache#readAhead}); the poll does not count in {@link #pollNanos}.
   */
  void readAhead(OffsetRange range, Duration maxWait) {
    start(range);
    if (index < buffer.size()) {
      return;
    }
    ConsumerRecords<?, ?> records = consumer.poll(maxWait);
    if (!records.isEmpty()) {
      buffer = records.records(tp);
      index = 0;
    }
  }

  /**
   * The next record of {@code range}, or null once the range is done: {@link #nextRun} one record
   * at a time. Blocks and fails as {@link #nextRun} does.
   *
   * @param <K> the key type of this reader's consumer
   * @param <V> the value type of this reader's consumer
   */
  public <K, V> ConsumerRecord<K, V> next(OffsetRange range, Duration pollTimeout) {
    if (cursor >= runEnd) {
      if (!nextRun(range, pollTimeout)) {
        return null;
      }
      cursor = runStart;
    }
    List<ConsumerRecord<K, V>> records = run();
    return records.get(cursor++);
  }

  /**
   * Moves to the next run of {@code range}'s records: {@code run().subList(runStart(), runEnd())},
   * in offset order and never empty. Returns false once the range is done. Blocks while polling;
   * fails with {@link FetchTimeoutException} after {@code pollTimeout} without progress, with
   * {@link BadRecordException} when the consumer cannot deserialize a record of the range.
   */
  public boolean nextRun(OffsetRange range, Duration pollTimeout) {
    return nextRun(range, pollTimeout, null);
  }

  /**
   * As {@link #nextRun(OffsetRange, Duration)}; a record of the range the consumer cannot
   * deserialize goes to {@code skipped} (when not null) and the reader continues after it, instead
   * of failing with {@link BadRecordException}.
   */
  public boolean nextRun(OffsetRange range, Duration pollTimeout, SkippedRecords skipped) {
    long from = range.fromOffset();
    long until = range.untilOffset();
    long lastProgress = System.nanoTime();
    while (true) {
      int size = buffer.size();
      if (index < size) {
        ConsumerRecord<?, ?> first = buffer.get(index);
        if (first.offset() < from) {
          index++;
          consumedUntil = first.offset() + 1;
          continue;
        }
        if (first.offset() >= until) {
          consumedUntil = until;
          return false;
        }
        // Offsets ascend within a poll, so only the tail of a range needs looking at.
        int end =
            buffer.get(size - 1).offset() < until
                ? size
                : firstAtOrAfter(until, index + 1, size - 1);
        runStart = index;
        runEnd = end;
        index = end;
        consumedUntil = end == size ? buffer.get(size - 1).offset() + 1 : until;
        return true;
      }
      long position = consumer.position(tp);
      if (position >= until) {
        consumedUntil = until;
        return false;
      }
      ConsumerRecords<?, ?> records;
      long t0 = System.nanoTime();
      try {
        records = consumer.poll(Duration.ofMillis(POLL_SLICE_MS));
      } catch (OffsetOutOfRangeException e) {
        if (handleOutOfRange(range, e)) {
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > pollTimeout.toNanos()) {
          throw noProgress(range, position, pollTimeout);
        }
        continue;
      } catch (RecordDeserializationException e) {
        if (e.offset() >= until) {
          // The consumer stays before the bad record and throws again when a later range reaches
          // it.
          consumedUntil = until;
          return false;
        }
        if (skipped == null || !e.topicPartition().equals(tp)) {
          throw new BadRecordException(
              tp.topic(), tp.partition(), e.offset(), e.getCause() != null ? e.getCause() : e);
        }
        // The consumer returned the records before it and stays at it: count it, then read on.
        skipped.skipped(e);
        buffer = List.of();
        index = 0;
        consumer.seek(tp, e.offset() + 1);
        consumedUntil = e.offset() + 1;
        lastProgress = System.nanoTime();
        continue;
      } finally {
        pollNanos += System.nanoTime() - t0;
      }
      if (!records.isEmpty()) {
        buffer = records.records(tp);
        index = 0;
        lastProgress = System.nanoTime();
      } else if (consumer.position(tp) > position) {
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > pollTimeout.toNanos()) {
        throw noProgress(range, position, pollTimeout);
      }
    }
  }

  private FetchTimeoutException noProgress(OffsetRange range, long position, Duration pollTimeout) {
    return new FetchTimeoutException(
        "no progress reading "
            + range
            + " for "
            + pollTimeout.toMillis()
            + " ms: position stuck at "
            + position
            + " (topic "
            + tp.topic()
            + ", partition "
            + tp.partition()
            + ", offsets ["
            + range.fromOffset()
            + ", "
            + range.untilOffset()
            + ")); is the broker reachable?");
  }

  /**
   * The index in {@code [lo, hi]} of the first buffered record at or after {@code offset}; {@code
   * hi}'s is.
   */
  private int firstAtOrAfter(long offset, int lo, int hi) {
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (buffer.get(mid).offset() < offset) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The records of the current run, from {@link #runStart()} (inclusive) to {@link #runEnd()};
   * valid until the next call on this reader. Read-only.
   *
   * @param <K> the key type of this reader's consumer
   * @param <V> the value type of this reader's consumer
   */
  @SuppressWarnings("unchecked")
  public <K, V> List<ConsumerRecord<K, V>> run() {
    // The consumer's types are fixed when it is created; whoever created it asks with the same
    // types.
    return (List<ConsumerRecord<K, V>>) buffer;
  }

  /** The index of the current run's first record in {@link #run()}. */
  public int runStart() {
    return runStart;
  }

  /** The index after the current run's last record in {@link #run()}. */
  public int runEnd() {
    return runEnd;
  }

  /**
   * Applies the data-loss policy to an offset the broker reported out of range. FAIL throws; SKIP
   * continues at the log start when the offset was deleted, and ends the range when the offset lies
   * past the log end (the rest of the range is not in this log; the next plan continues at the log
   * end). An offset that is back in range (the log changed in between) is fetched again.
   *
   * @return whether the reader moved on; false when it only fetches again (bounded by the poll
   *     timeout)
   */
  private boolean handleOutOfRange(OffsetRange range, OffsetOutOfRangeException e) {
    long expected = e.offsetOutOfRangePartitions().getOrDefault(tp, consumedUntil);
    long logStart = consumer.beginningOffsets(List.of(tp)).getOrDefault(tp, -1L);
    long logEnd = consumer.endOffsets(List.of(tp)).getOrDefault(tp, -1L);
    long target;
    if (logStart >= 0 && expected >= logStart && expected <= logEnd) {
      target = expected;
    } else if (dataLossPolicy == DataLossPolicy.FAIL) {
      throw new DataLossException(tp, expected, logStart, logEnd);
    } else if (expected < logStart) {
      target = Math.min(logStart, range.untilOffset());
      log.warn(
          "data loss on {} while reading {}: offset {} is before the log start {} (retention or deleteRecords"
              + " removed offsets [{}, {})), skipping to {} (dataLossPolicy SKIP)",
          tp,
          range,
          expected,
          logStart,
          expected,
          logStart,
          target);
      skippedOffsets += target - expected;
    } else {
      target = range.untilOffset();
      log.warn(
          "data loss on {} while reading {}: offset {} is after the log end {} (the topic was recreated or"
              + " truncated), skipping the rest of the range (dataLossPolicy SKIP)",
          tp,
          range,
          expected,
          logEnd);
    }
    buffer = List.of();
    index = 0;
    consumer.seek(tp, target);
    consumedUntil = target;
    return target != expected;
  }

  /**
   * Closes the consumer without waiting for in-flight fetches; idempotent as far as Kafka's
   * consumer is.
   */
  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
  }
}
