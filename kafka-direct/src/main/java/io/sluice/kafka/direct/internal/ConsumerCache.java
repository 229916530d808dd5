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
 * Task consumers of one stream, one per topic-partition, with exactly one owner at a time: {@link
 * #checkout} hands a reader out, {@link #checkin} takes it back for the next batch. A retried task,
 * or a task that finds the partition's reader already checked out (two jobs reading the same batch
 * at once), gets a fresh reader that is closed on check-in. Readers unused for the idle timeout are
 * closed. All methods are thread-safe; a reader's own methods are only called by its current owner.
 */
public final class ConsumerCache implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConsumerCache.class);

  private final Supplier<? extends Consumer<?, ?>> factory;
  private final DataLossPolicy dataLossPolicy;
  private final long idleTimeoutNanos;
  private final Map<TopicPartition, Entry> idle = new HashMap<>();
  private final Map<TopicPartition, PartitionReader> lent = new HashMap<>();
  private final boolean enabled;
  private boolean closed;

  /**
   * Creates an empty cache; {@code factory} makes a new task consumer on the calling thread, all of
   * the same key and value types (see {@link PartitionReader}). A disabled cache (one-off jobs)
   * hands out fresh readers and closes them at check-in.
   */
  public ConsumerCache(
      Supplier<? extends Consumer<?, ?>> factory,
      DataLossPolicy dataLossPolicy,
      Duration idleTimeout,
      boolean enabled) {
    this.factory = Objects.requireNonNull(factory, "factory");
    this.enabled = enabled;
    this.dataLossPolicy = Objects.requireNonNull(dataLossPolicy, "dataLossPolicy");
    this.idleTimeoutNanos = idleTimeout.toNanos();
  }

  /** A checked-out reader and whether it returns to the cache. */
  public record Lease(PartitionReader reader, boolean cached) {}

  /**
   * Hands out the reader of {@code tp}, creating one when needed. {@code fresh} (a retried task)
   * discards a cached reader and creates a new one.
   */
  public Lease checkout(TopicPartition tp, boolean fresh) {
    List<PartitionReader> toClose = new ArrayList<>();
    Lease lease = null;
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the consumer cache is closed (the stream stopped)");
      }
      evictIdle(toClose);
      Entry cached = idle.remove(tp);
      if (cached != null && !fresh) {
        lent.put(tp, cached.reader);
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
      if (enabled && !closed && !lent.containsKey(tp)) {
        lent.put(tp, reader);
        return new Lease(reader, true);
      }
    }
    return new Lease(reader, false);
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
        lent.remove(reader.topicPartition(), reader);
        if (healthy && !closed) {
          idle.put(reader.topicPartition(), new Entry(reader, System.nanoTime()));
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
    return idle.size();
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
    for (Iterator<Entry> it = idle.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (now - e.since > idleTimeoutNanos) {
        it.remove();
        toClose.add(e.reader);
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
      idle.values().forEach(e -> toClose.add(e.reader));
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
