package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.DataLossPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * the idle timeout are closed. All methods are thread-safe; a reader's own methods are only called
 * by its current owner.
 */
public final class ConsumerCache implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConsumerCache.class);

  private final Supplier<? extends Consumer<?, ?>> factory;
  private final DataLossPolicy dataLossPolicy;
  private final long idleTimeoutNanos;
  private final Map<TopicPartition, List<Entry>> idle = new HashMap<>();
  private final Map<TopicPartition, Integer> lent = new HashMap<>();
  private final int readersPerPartition;
  private boolean closed;

  /**
   * Creates an empty cache; {@code factory} makes a new task consumer on the calling thread, all of
   * the same key and value types (see {@link PartitionReader}). It keeps up to {@code
   * readersPerPartition} readers of each topic-partition; with 0 (one-off jobs) it hands out fresh
   * readers and closes them at check-in.
   */
  public ConsumerCache(
      Supplier<? extends Consumer<?, ?>> factory,
      DataLossPolicy dataLossPolicy,
      Duration idleTimeout,
      int readersPerPartition) {
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

  /** Closes every idle reader; readers still lent are closed at check-in. Idempotent. */
  @Override
  public void close() {
    List<PartitionReader> toClose;
    synchronized (this) {
      closed = true;
      toClose = new ArrayList<>();
      idle.values().forEach(entries -> entries.forEach(e -> toClose.add(e.reader)));
      idle.clear();
    }
    closeAll(toClose);
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
}
