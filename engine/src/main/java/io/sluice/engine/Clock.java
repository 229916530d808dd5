package io.sluice.engine;

import java.time.Instant;

/**
 * The source of time for a context: batch times, delays and the job generator's waits all come from
 * it, so tests can drive batches with a {@link ManualClock}.
 *
 * <p>Implementations must be thread-safe.
 */
public interface Clock {

  /** The current time. */
  Instant now();

  /**
   * Blocks the calling thread until {@link #now()} is at or after {@code time}.
   *
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  void waitUntil(Instant time) throws InterruptedException;
}
