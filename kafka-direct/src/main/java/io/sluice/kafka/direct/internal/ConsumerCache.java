package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.offsets.OffsetRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task consumers of one stream, up to {@code readersPerPartition} per topic-partition (one unless
 * batches are read in pieces, see {@link
 * io.sluice.kafka.direct.DirectStreamOptions#minPartitions}), each with exactly one owner at a
 * time: {@link #checkout} hands a reader out, preferring one that stands where the range begins,
 * {@link #checkin} takes it back for the next batch. A retried task gets a fresh reader; a task
 * that finds the partition's readers all checked out (two jobs reading the same batch at once) gets
 * a fresh one too, closed on check-in when the partition already has its share. Readers unused for
 * the idle timeout are closed. A partition that has no reader yet can have one prepared ahead of
 * its task ({@link #readAhead}). All methods are thread-safe; a reader's own methods are only
 * called by its current owner.
 */
public final class ConsumerCache implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConsumerCache.class);

  /**
   * How long a reader prepared ahead polls for its range's first records: the poll slice of {@link
   * PartitionReader}; a fetch still in flight then is received by the task's first poll.
   */
  private static final Duration READ_AHEAD_POLL = Duration.ofMillis(50);

  /** How long {@link #close} waits for a preparation under way to end (and close its reader). */
  private static final Duration READ_AHEAD_CLOSE_WAIT = Duration.ofSeconds(5);

  private static final AtomicInteger READ_AHEAD_THREADS = new AtomicInteger();

  private final Supplier<? extends Consumer<?, ?>> factory;
  private final DataLossPolicy dataLossPolicy;
  private final long idleTimeoutNanos;
  private final Map<TopicPartition, List<Entry>> idle = new HashMap<>();
  private final Map<TopicPartition, Integer> lent = new HashMap<>();
  private final int readersPerPartition;
  private final Duration readAheadPoll;

  /** Readers being prepared ahead of their task, at most one per topic-partition. */
  private final Map<TopicPartition, ReadAhead> readingAhead = new HashMap<>();

  /** Prepares readers ahead, one at a time; made on the first {@link #readAhead}. */
  private ThreadPoolExecutor readAheadThread;

  private boolean closed;

  /**
   * Creates an empty cache; {@code factory} makes a new task consumer on the calling thread (a
   * task's, or the read-ahead thread), all of the same key and value types (see {@link
   * PartitionReader}). It keeps up to {@code readersPerPartition} readers of each topic-partition;
   * with 0 (one-off jobs) it hands out fresh readers and closes them at check-in.
   */
  public ConsumerCache(
      Supplier<? extends Consumer<?, ?>> factory,
      DataLossPolicy dataLossPolicy,
      Duration idleTimeout,
      int readersPerPartition) {
    this(factory, dataLossPolicy, idleTimeout, readersPerPartition, READ_AHEAD_POLL);
  }

  /** As the public constructor; a prepared reader polls for up to {@code readAheadPoll}. */
  ConsumerCache(
      Supplier<? extends Consumer<?, ?>> factory,
      DataLossPolicy dataLossPolicy,
      Duration idleTimeout,
      int readersPerPartition,
      Duration readAheadPoll) {
    this.readAheadPoll = Objects.requireNonNull(readAheadPoll, "readAheadPoll");
    this.factory = Objects.requireNonNull(factory, "factory");
    if (readersPerPartition < 0) {
      throw new IllegalArgumentException(
          "readersPerPartition must be >= 0, was " + readersPerPartition);
    }
    this.readersPerPartition = readersPerPartition;
    this.dataLossPolicy = Objects.requireNonNull(dataLossPolicy, "dataLossPolicy");
    this.idleTimeoutNanos = idleTimeout.toNanos();
  }

  /** A checked-out reader and whether it returns to the cache. */
  public record Lease(PartitionReader reader, boolean cached) {}

  /**
   * Hands out a reader of {@code tp}, the idle one standing at {@code from} if there is one, else
   * any idle one (it seeks), else a new one. {@code fresh} (a retried task) discards an idle reader
   * and creates a new one.
   */
  public Lease checkout(TopicPartition tp, long from, boolean fresh) {
    List<PartitionReader> toClose = new ArrayList<>();
    Lease lease = null;
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the consumer cache is closed (the stream stopped)");
      }
      evictIdle(toClose);
      awaitReadAhead(tp);
      Entry cached = takeIdle(tp, from);
      if (cached != null && !fresh) {
        lent.merge(tp, 1, Integer::sum);
        lease = new Lease(cached.reader, true);
      } else if (cached != null) {
        toClose.add(cached.reader);
      }
    }
    closeAll(toClose);
    if (lease != null) {
      return lease;
    }
    PartitionReader reader = new PartitionReader(factory.get(), tp, dataLossPolicy);
    synchronized (this) {
      int held = lent.getOrDefault(tp, 0) + idle.getOrDefault(tp, List.of()).size();
      if (!closed && held < readersPerPartition) {
        lent.merge(tp, 1, Integer::sum);
        return new Lease(reader, true);
      }
    }
    return new Lease(reader, false);
  }

  /**
   * Prepares, on a background thread, a reader for each of {@code ranges} whose partition has none
   * (a stream's first batch, a partition new to it, one whose readers were closed idle): creates
   * its consumer, seeks to the range's start and polls once, keeping what arrives. A slot runs a
   * batch's tasks one after another, and without this each of its later tasks paid its consumer's
   * creation, connection and first fetch in turn; prepared, its first records wait in the reader.
   * The task of a partition whose preparation has not begun makes its own reader, as without
   * read-ahead, and the preparation is dropped; a task whose preparation is under way waits for it.
   * A preparation that fails is dropped too: the task then makes its own reader and meets the
   * failure itself, under the stream's policies. Does nothing for a cache that keeps no readers.
   */
  public void readAhead(List<OffsetRange> ranges) {
    if (readersPerPartition == 0) {
      return;
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      for (OffsetRange range : ranges) {
        TopicPartition tp = range.topicPartition();
        if (range.isEmpty()
            || idle.containsKey(tp)
            || lent.containsKey(tp)
            || readingAhead.containsKey(tp)) {
          continue;
        }
        ReadAhead preparation = new ReadAhead(range);
        readingAhead.put(tp, preparation);
        if (readAheadThread == null) {
          readAheadThread = newReadAheadThread();
        }
        readAheadThread.execute(() -> prepare(preparation));
      }
    }
  }

  private static ThreadPoolExecutor newReadAheadThread() {
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            1,
            1,
            1,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t =
                  new Thread(r, "sluice-kafka-read-ahead-" + READ_AHEAD_THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** Runs on the read-ahead thread: prepares the reader unless its task came first. */
  private void prepare(ReadAhead preparation) {
    TopicPartition tp = preparation.range.topicPartition();
    synchronized (this) {
      if (closed || readingAhead.get(tp) != preparation) {
        return;
      }
      preparation.started = true;
    }
    PartitionReader reader = null;
    boolean ready = false;
    boolean kept = false;
    try {
      reader = new PartitionReader(factory.get(), tp, dataLossPolicy);
      reader.readAhead(preparation.range, readAheadPoll);
      ready = true;
    } catch (RuntimeException e) {
      log.debug("reading ahead {} failed; its task reads it from the start", preparation.range, e);
    } finally {
      synchronized (this) {
        readingAhead.remove(tp);
        if (ready && !closed) {
          idle.computeIfAbsent(tp, k -> new ArrayList<>())
              .add(new Entry(reader, System.nanoTime()));
          kept = true;
        }
        notifyAll();
      }
      if (reader != null && !kept) {
        close(reader);
      }
    }
  }

  /**
   * Under the lock: drops the partition's preparation if it has not begun (the caller makes its own
   * reader), else waits until it has ended and its reader is idle. An interrupted wait gives up
   * (the caller's next poll meets the interrupt).
   */
  private void awaitReadAhead(TopicPartition tp) {
    ReadAhead preparation = readingAhead.get(tp);
    if (preparation != null && !preparation.started) {
      readingAhead.remove(tp);
      return;
    }
    while (readingAhead.containsKey(tp)) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private Entry takeIdle(TopicPartition tp, long from) {
    List<Entry> entries = idle.get(tp);
    if (entries == null) {
      return null;
    }
    int pick = 0;
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).reader.consumedUntil() == from) {
        pick = i;
        break;
      }
    }
    Entry e = entries.remove(pick);
    if (entries.isEmpty()) {
      idle.remove(tp);
    }
    return e;
  }

  /**
   * Takes a reader back. A reader whose last read failed ({@code healthy == false}) or that was
   * never cached is closed, so the next task starts from a clean consumer.
   */
  public void checkin(Lease lease, boolean healthy) {
    PartitionReader reader = lease.reader();
    boolean keep = false;
    if (lease.cached()) {
      synchronized (this) {
        TopicPartition tp = reader.topicPartition();
        lent.computeIfPresent(tp, (k, n) -> n > 1 ? n - 1 : null);
        if (healthy && !closed) {
          idle.computeIfAbsent(tp, k -> new ArrayList<>())
              .add(new Entry(reader, System.nanoTime()));
          keep = true;
        }
      }
    }
    if (!keep) {
      close(reader);
    }
  }

  /** The number of idle cached readers. */
  public synchronized int idleCount() {
    int n = 0;
    for (List<Entry> entries : idle.values()) {
      n += entries.size();
    }
    return n;
  }

  /** Closes idle readers unused for longer than the idle timeout. */
  public void evictIdle() {
    List<PartitionReader> toClose = new ArrayList<>();
    synchronized (this) {
      evictIdle(toClose);
    }
    closeAll(toClose);
  }

  private void evictIdle(List<PartitionReader> toClose) {
    long now = System.nanoTime();
    for (Iterator<List<Entry>> lists = idle.values().iterator(); lists.hasNext(); ) {
      List<Entry> entries = lists.next();
      for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
        Entry e = it.next();
        if (now - e.since > idleTimeoutNanos) {
          it.remove();
          toClose.add(e.reader);
        }
      }
      if (entries.isEmpty()) {
        lists.remove();
      }
    }
  }

  /**
   * Closes every idle reader, drops the preparations that have not begun and waits (a few seconds
   * at most) for those under way, whose readers are then closed; readers still lent are closed at
   * check-in. Idempotent.
   */
  @Override
  public void close() {
    List<PartitionReader> toClose;
    ThreadPoolExecutor preparing;
    synchronized (this) {
      closed = true;
      toClose = new ArrayList<>();
      idle.values().forEach(entries -> entries.forEach(e -> toClose.add(e.reader)));
      idle.clear();
      readingAhead.values().removeIf(p -> !p.started);
      notifyAll();
      preparing = readAheadThread;
    }
    closeAll(toClose);
    if (preparing != null) {
      preparing.shutdown();
      try {
        if (!preparing.awaitTermination(READ_AHEAD_CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn(
              "a task consumer prepared ahead was still being made after {}",
              READ_AHEAD_CLOSE_WAIT);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void closeAll(List<PartitionReader> readers) {
    readers.forEach(ConsumerCache::close);
  }

  private static void close(PartitionReader reader) {
    try {
      reader.close();
    } catch (RuntimeException e) {
      log.warn("closing the consumer of {} failed", reader.topicPartition(), e);
    }
  }

  private record Entry(PartitionReader reader, long since) {}

  /** A reader to prepare for {@code range}; {@code started} (under the lock) once it is begun. */
  private static final class ReadAhead {
    final OffsetRange range;
    boolean started;

    ReadAhead(OffsetRange range) {
      this.range = range;
    }
  }
}
