package io.sluice.engine;

import io.sluice.engine.dstream.DStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Drives a context on a {@link ManualClock} one batch at a time and collects outputs per batch. */
public final class Harness implements AutoCloseable {

  public static final Duration INTERVAL = Duration.ofSeconds(1);

  public final ManualClock clock = new ManualClock();
  public final StreamingContext ctx;
  private final Object monitor = new Object();
  private long completed;
  private final List<BatchInfo> completedInfos = new ArrayList<>();

  public Harness(int parallelism) {
    this(
        StreamingContext.builder()
            .appName("test")
            .batchInterval(INTERVAL)
            .parallelism(parallelism));
  }

  public Harness(StreamingContext.Builder builder) {
    ctx = builder.clock(clock).build();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            synchronized (monitor) {
              completed++;
              completedInfos.add(batch);
              monitor.notifyAll();
            }
          }

          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            synchronized (monitor) {
              monitor.notifyAll();
            }
          }
        });
  }

  /** Collects each batch's RDD contents by batch id. */
  public <T> Map<Long, List<T>> collect(DStream<T> stream) {
    Map<Long, List<T>> out = new ConcurrentHashMap<>();
    stream.foreachBatch((rdd, batch) -> out.put(batch.id(), rdd.collect()));
    return out;
  }

  /**
   * Starts the context if needed, then runs {@code n} batches one by one, waiting for each to
   * complete.
   */
  public void runBatches(int n) {
    if (ctx.state() == StreamingContext.State.INITIALIZED) {
      ctx.start();
    }
    for (int i = 0; i < n; i++) {
      long target;
      synchronized (monitor) {
        target = completed + 1;
      }
      clock.advance(INTERVAL);
      awaitCompleted(target);
    }
  }

  /** Waits until {@code n} batches completed; fails fast if the context stopped. */
  public void awaitCompleted(long n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    synchronized (monitor) {
      while (completed < n) {
        if (ctx.state() == StreamingContext.State.STOPPED) {
          throw new AssertionError("context stopped after " + completed + " completed batches");
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("timed out waiting for batch " + n + ", completed " + completed);
        }
        try {
          monitor.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
    }
  }

  public long completed() {
    synchronized (monitor) {
      return completed;
    }
  }

  public List<BatchInfo> completedInfos() {
    synchronized (monitor) {
      return List.copyOf(completedInfos);
    }
  }

  @Override
  public void close() {
    ctx.stop(false);
  }
}
