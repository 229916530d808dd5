package io.sluice.engine.internal;

import io.sluice.engine.TerminalException;
import io.sluice.engine.rdd.RDD;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * One job whose tasks hand their records, in chunks, to the thread that started it (a sink's job
 * thread, which owns a transaction), while the other partitions are still being computed. See
 * {@link RDD#consumePartitions}.
 *
 * <p>Back-pressure without polling: a task takes one of {@code maxQueuedChunks} permits before it
 * queues a chunk and the consumer gives it back once the chunk is consumed, so at most that many
 * chunks wait (plus one being filled per running task). A failure of the consumer or of a task
 * cancels the job: running tasks are interrupted, tasks not yet started do nothing, and {@link
 * #run} returns (throwing) only once no task of the job is left running, so none outlives the
 * caller's transaction.
 *
 * @param <T> record type
 */
final class ChunkedJob<T> {

  private record Chunk<T>(int partition, List<T> records) {}

  private record TaskEnd(int partition, Throwable failure) {}

  private final int chunkSize;
  private final Semaphore permits;
  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final Set<Thread> running = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private boolean cancelled; // guarded by lock

  ChunkedJob(int chunkSize, int maxQueuedChunks) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunkSize must be > 0, was " + chunkSize);
    }
    if (maxQueuedChunks <= 0) {
      throw new IllegalArgumentException("maxQueuedChunks must be > 0, was " + maxQueuedChunks);
    }
    this.chunkSize = chunkSize;
    this.permits = new Semaphore(maxQueuedChunks);
  }

  /**
   * Runs the job on {@code tasks}, consuming on the calling thread; blocks until every task ended.
   */
  void run(TaskScheduler tasks, RDD<T> rdd, RDD.ChunkConsumer<T> consumer) throws Exception {
    if (TaskScheduler.SLOT.get() != null) {
      // Inside a task nobody else would consume: run the partitions inline, straight into the
      // consumer.
      runInline(tasks, rdd, consumer);
      return;
    }
    int n =
        tasks.submitJob(
            rdd,
            (it, tc) -> {
              produce(it, tc.partition());
              return Boolean.TRUE;
            },
            (partition, failure) -> queue.add(new TaskEnd(partition, failure)));
    consume(n, consumer);
  }

  private void runInline(TaskScheduler tasks, RDD<T> rdd, RDD.ChunkConsumer<T> consumer)
      throws Exception {
    for (List<T> part :
        tasks.runJob(
            rdd,
            (it, tc) -> {
              List<T> all = new ArrayList<>();
              it.forEachRemaining(all::add);
              return all;
            })) {
      consumer.accept(0, part);
    }
  }

  private void produce(Iterator<T> it, int partition) throws Exception {
    Thread self = Thread.currentThread();
    synchronized (lock) {
      if (cancelled) {
        return;
      }
      running.add(self);
    }
    boolean handedOver = false;
    try {
      List<T> chunk = new ArrayList<>(Math.min(chunkSize, 1024));
      while (it.hasNext()) {
        chunk.add(it.next());
        if (chunk.size() == chunkSize) {
          handOver(partition, chunk);
          handedOver = true;
          chunk = new ArrayList<>(Math.min(chunkSize, 1024));
        }
      }
      if (!chunk.isEmpty()) {
        handOver(partition, chunk);
      }
    } catch (Exception e) {
      if (handedOver) {
        // The consumer already has part of this partition: a retry would hand it over twice.
        throw new TerminalException(
            "partition "
                + partition
                + " failed after handing over records; the job is"
                + " failed instead of retrying it: "
                + e,
            e);
      }
      throw e;
    } finally {
      synchronized (lock) {
        running.remove(self);
        lock.notifyAll();
      }
      // A cancelling interrupt belongs to this task only, not to the slot's next one.
      Thread.interrupted();
    }
  }

  private void handOver(int partition, List<T> chunk) throws InterruptedException {
    permits.acquire();
    queue.add(new Chunk<>(partition, chunk));
  }

  private void consume(int tasks, RDD.ChunkConsumer<T> consumer) throws Exception {
    Throwable failure = null;
    int ended = 0;
    try {
      while (ended < tasks) {
        Object item = queue.take();
        if (item instanceof TaskEnd end) {
          ended++;
          if (end.failure() != null && failure == null) {
            failure = end.failure();
            cancel();
          }
          continue;
        }
        @SuppressWarnings("unchecked")
        Chunk<T> chunk = (Chunk<T>) item;
        permits.release();
        if (failure == null) {
          try {
            consumer.accept(chunk.partition(), chunk.records());
          } catch (Exception | Error e) {
            failure = e;
            cancel();
          }
        }
      }
    } catch (InterruptedException e) {
      cancel();
      awaitNoneRunning();
      Thread.currentThread().interrupt();
      throw e;
    }
    if (failure != null) {
      awaitNoneRunning();
      if (failure instanceof Exception e) {
        throw e;
      }
      throw (Error) failure;
    }
  }

  /** Stops the job: running tasks are interrupted, tasks not started yet will do nothing. */
  private void cancel() {
    synchronized (lock) {
      cancelled = true;
      running.forEach(Thread::interrupt);
    }
  }

  private void awaitNoneRunning() {
    boolean interrupted = false;
    synchronized (lock) {
      while (!running.isEmpty()) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
