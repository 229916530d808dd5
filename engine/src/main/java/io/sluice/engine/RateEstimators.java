package io.sluice.engine;

import io.sluice.engine.internal.PidRateEstimator;
import java.time.Duration;

/** Factories for {@link RateEstimator}s. */
public final class RateEstimators {

  private RateEstimators() {}

  /**
   * A PID estimator with the usual gains: proportional 1.0, integral 0.2, derivative 0.0, minimum
   * rate 100 records/s.
   */
  public static RateEstimator pid(Duration batchInterval) {
    return pid(batchInterval, 1.0, 0.2, 0.0, 100);
  }

  /**
   * A PID estimator. The error is the gap between the last rate and the measured processing rate;
   * the integral term is the backlog (scheduling delay times processing rate over the batch
   * interval).
   *
   * @throws IllegalArgumentException on a non-positive interval or minimum rate, or a negative gain
   */
  public static RateEstimator pid(
      Duration batchInterval,
      double proportional,
      double integral,
      double derivative,
      double minRate) {
    return new PidRateEstimator(batchInterval, proportional, integral, derivative, minRate);
  }
}
