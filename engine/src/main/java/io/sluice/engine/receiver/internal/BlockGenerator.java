package io.sluice.engine.receiver.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Cuts single records into blocks: records accumulate in a buffer, which is cut into a block every
 * {@code blockInterval} (by a timer calling {@link #cut()}) or when it reaches {@code
 * maxBlockRecords}; blocks wait in a bounded queue for the pusher thread that stores them. When the
 * store falls behind, the queue fills, cutting blocks, and with it {@link #add}, which is how
 * back-pressure reaches the source. Thread-safe.
 *
 * @param <T> record type
 */
public final class BlockGenerator<T> {

  private final int maxBlockRecords;
  private final BlockingQueue<List<T>> queue;
  private final Consumer<List<T>> store;
  private static final long POLL_MS = 20;

  private List<T> buffer = new ArrayList<>(); // guarded by this
  private List<T> last; // guarded by this
  private volatile boolean stopped;

  /**
   * A generator handing blocks to {@code store} (called on the pusher thread, one block at a time).
   *
   * @param maxQueuedBlocks blocks cut but not yet stored before {@link #add} blocks
   * @param maxBlockRecords records after which the buffer is cut at once
   */
  public BlockGenerator(int maxQueuedBlocks, int maxBlockRecords, Consumer<List<T>> store) {
    if (maxQueuedBlocks < 1 || maxBlockRecords < 1) {
      throw new IllegalArgumentException(
          "maxQueuedBlocks and maxBlockRecords must be >= 1, were "
              + maxQueuedBlocks
              + " and "
              + maxBlockRecords);
    }
    this.maxBlockRecords = maxBlockRecords;
    this.queue = new ArrayBlockingQueue<>(maxQueuedBlocks);
    this.store = store;
  }

  /**
   * Adds a record to the current block; cuts it when full, waiting while the queue is full.
   *
   * @throws IllegalStateException after {@link #stop()}
   * @throws InterruptedException when interrupted while waiting
   */
  public void add(T record) throws InterruptedException {
    List<T> full = null;
    synchronized (this) {
      if (stopped) {
        throw new IllegalStateException("the receiver is stopped; records are no longer taken");
      }
      buffer.add(record);
      if (buffer.size() >= maxBlockRecords) {
        full = buffer;
        buffer = new ArrayList<>();
      }
    }
    if (full != null) {
      queue.put(full);
    }
  }

  /**
   * Cuts the buffered records into a block (the block interval's timer); waits while the queue is
   * full. Nothing when the buffer is empty.
   */
  public void cut() throws InterruptedException {
    List<T> block;
    synchronized (this) {
      if (buffer.isEmpty()) {
        return;
      }
      block = buffer;
      buffer = new ArrayList<>();
    }
    queue.put(block);
  }

  /**
   * Stores the next queued block; the pusher thread's loop. Waits a short while for one; returns
   * false once {@link #stop()} was called and the queue is empty.
   */
  public boolean pushNext() throws InterruptedException {
    List<T> block = queue.poll(POLL_MS, TimeUnit.MILLISECONDS);
    if (block == null) {
      return !stopped;
    }
    store.accept(block);
    return true;
  }

  /** Blocks cut and waiting to be stored. */
  public int queued() {
    return queue.size();
  }

  /**
   * Takes no more records and keeps what is buffered as a last block; the pusher stores the queue
   * and then ends. Call {@link #drain()} after the pusher ended.
   */
  public synchronized void stop() {
    stopped = true;
    if (!buffer.isEmpty()) {
      last = buffer;
      buffer = new ArrayList<>();
    }
  }

  /**
   * Stores, on the calling thread, whatever is left after {@link #stop()} once the pusher ended:
   * blocks a receiver thread queued late, then the last buffered records.
   */
  public void drain() {
    for (List<T> b; (b = queue.poll()) != null; ) {
      store.accept(b);
    }
    List<T> rest;
    synchronized (this) {
      rest = last;
      last = null;
    }
    if (rest != null) {
      store.accept(rest);
    }
  }
}
