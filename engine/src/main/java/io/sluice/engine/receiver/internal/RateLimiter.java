package io.sluice.engine.receiver.internal;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * A token bucket without burst: permits are handed out at {@code permitsPerSecond}, each
 * reservation pushing the next free time forward, so a receiver's records enter at most at that
 * rate. A rate of 0 or less means unlimited. Thread-safe; {@link #acquire} blocks the caller.
 */
public final class RateLimiter {

  private final LongSupplier nanoTime;
  private final LongConsumer parkNanos;
  private double permitsPerSecond;
  private long nextFreeNanos;

  /** A limiter on the system clock. */
  public RateLimiter(double permitsPerSecond) {
    this(permitsPerSecond, System::nanoTime, LockSupport::parkNanos);
  }

  /** A limiter on the given clock and park function (tests advance a fake clock). */
  public RateLimiter(double permitsPerSecond, LongSupplier nanoTime, LongConsumer parkNanos) {
    this.permitsPerSecond = permitsPerSecond;
    this.nanoTime = nanoTime;
    this.parkNanos = parkNanos;
    this.nextFreeNanos = nanoTime.getAsLong();
  }

  /** The current rate; 0 or less: unlimited. */
  public synchronized double rate() {
    return permitsPerSecond;
  }

  /** Changes the rate (the PID estimator's update); 0 or less: unlimited. */
  public synchronized void setRate(double permitsPerSecond) {
    this.permitsPerSecond = permitsPerSecond;
  }

  /**
   * Takes {@code permits}, waiting until the rate allows them. Returns at once when unlimited.
   *
   * @throws IllegalArgumentException for a negative number of permits
   */
  public void acquire(int permits) {
    if (permits < 0) {
      throw new IllegalArgumentException("permits must be >= 0, was " + permits);
    }
    long waitNanos;
    synchronized (this) {
      if (permitsPerSecond <= 0 || permits == 0) {
        return;
      }
      long now = nanoTime.getAsLong();
      if (nextFreeNanos < now) {
        nextFreeNanos = now;
      }
      waitNanos = nextFreeNanos - now;
      nextFreeNanos += (long) (permits * 1e9 / permitsPerSecond);
    }
    while (waitNanos > 0) {
      long before = nanoTime.getAsLong();
      parkNanos.accept(waitNanos);
      waitNanos -= nanoTime.getAsLong() - before;
      if (Thread.currentThread().isInterrupted()) {
        return;
      }
    }
  }
}
