package io.sluice.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A clock that only moves when told to, for deterministic tests: with a context built on it,
 * advancing by one batch interval runs exactly one batch. Thread-safe; time never goes backwards.
 */
public final class ManualClock implements Clock {

  private Instant now;

  /** A clock at {@link Instant#EPOCH}. */
  public ManualClock() {
    this(Instant.EPOCH);
  }

  /** A clock at {@code start}. */
  public ManualClock(Instant start) {
    this.now = Objects.requireNonNull(start, "start");
  }

  @Override
  public synchronized Instant now() {
    return now;
  }

  /**
   * Moves the time forward and wakes every waiter whose time has come. Returns without waiting for
   * the batches that this triggers: wait for them with a listener or Awaitility.
   *
   * @throws IllegalArgumentException if {@code by} is negative
   */
  public synchronized void advance(Duration by) {
    if (by.isNegative()) {
      throw new IllegalArgumentException("advance must be >= 0, was " + by);
    }
    now = now.plus(by);
    notifyAll();
  }

  /**
   * Sets the time and wakes waiters.
   *
   * @throws IllegalArgumentException if {@code time} is before the current time
   */
  public synchronized void setTime(Instant time) {
    if (time.isBefore(now)) {
      throw new IllegalArgumentException(
          "time must not go backwards: was " + now + ", asked " + time);
    }
    now = time;
    notifyAll();
  }

  @Override
  public synchronized void waitUntil(Instant time) throws InterruptedException {
    while (now.isBefore(time)) {
      wait();
    }
  }

  @Override
  public synchronized String toString() {
    return "ManualClock[" + now + "]";
  }
}
