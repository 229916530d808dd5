package io.sluice.examples;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Lets a driver that moves a {@link io.sluice.engine.ManualClock} wait for the batch it triggered:
 * counts completed batches and wakes waiters on every completed or failed batch. Events arrive on
 * the listener bus thread; {@link #await} is called by the driver thread.
 */
final class BatchWaiter implements StreamingListener {

  private final Object lock = new Object();
  private long completed;
  private BatchInfo last;

  @Override
  public void onBatchCompleted(BatchInfo batch) {
    synchronized (lock) {
      completed++;
      last = batch;
      lock.notifyAll();
    }
  }

  @Override
  public void onBatchFailed(BatchInfo batch, Throwable cause) {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** Batches completed so far. */
  long completed() {
    synchronized (lock) {
      return completed;
    }
  }

  /**
   * Blocks until {@code n} batches completed and returns the last one.
   *
   * @throws io.sluice.engine.BatchFailedException when the context stopped because a batch failed
   * @throws IllegalStateException when the context stopped otherwise, or after {@code timeout}
   */
  BatchInfo await(long n, StreamingContext ctx, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      synchronized (lock) {
        if (completed >= n) {
          return last;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException(
              "batch " + n + " did not complete within " + timeout + "; completed " + completed);
        }
        // Bounded, so that a stop without a failed-batch event is noticed too.
        lock.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
        if (completed >= n) {
          return last;
        }
      }
      if (ctx.state() == StreamingContext.State.STOPPED) {
        ctx.awaitTermination(); // rethrows the failed batch; outside the lock the bus needs
        throw new IllegalStateException("the context stopped after " + completed() + " batches");
      }
    }
  }
}
