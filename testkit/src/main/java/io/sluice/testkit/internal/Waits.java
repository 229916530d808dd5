package io.sluice.testkit.internal;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Polls a condition with a short back-off, for servers that offer no completion signal. */
public final class Waits {

  private static final long POLL_NANOS = Duration.ofMillis(20).toNanos();

  private Waits() {}

  /**
   * Blocks until {@code condition} is true.
   *
   * @throws TimeoutException if it is still false after {@code timeout}; the message names {@code
   *     what}
   */
  public static void until(BooleanSupplier condition, Duration timeout, String what)
      throws TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new TimeoutException(
            "timed out after " + timeout.toMillis() + " ms waiting for " + what);
      }
      LockSupport.parkNanos(POLL_NANOS);
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new TimeoutException("interrupted while waiting for " + what);
      }
    }
  }
}
