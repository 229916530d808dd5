package io.sluice.engine.internal;

import io.sluice.engine.RateEstimator;
import java.time.Duration;
import java.util.OptionalDouble;

/**
 * PID rate estimator; see {@link io.sluice.engine.RateEstimators#pid(Duration, double, double,
 * double, double)}.
 */
public final class PidRateEstimator implements RateEstimator {

  private final long batchIntervalMillis;
  private final double proportional;
  private final double integral;
  private final double derivative;
  private final double minRate;

  private boolean seeded;
  private long latestTime = -1;
  private double latestRate = -1;
  private double latestError = -1;

  /** See the factory for the parameters. */
  public PidRateEstimator(
      Duration batchInterval,
      double proportional,
      double integral,
      double derivative,
      double minRate) {
    if (batchInterval == null || batchInterval.isNegative() || batchInterval.isZero()) {
      throw new IllegalArgumentException("batchInterval must be > 0, was " + batchInterval);
    }
    check("proportional", proportional);
    check("integral", integral);
    check("derivative", derivative);
    if (!(minRate > 0)) {
      throw new IllegalArgumentException("minRate must be > 0, was " + minRate);
    }
    this.batchIntervalMillis = batchInterval.toMillis();
    this.proportional = proportional;
    this.integral = integral;
    this.derivative = derivative;
    this.minRate = minRate;
  }

  private static void check(String name, double gain) {
    if (!(gain >= 0)) {
      throw new IllegalArgumentException(name + " must be >= 0, was " + gain);
    }
  }

  @Override
  public OptionalDouble compute(
      long timeMillis, long records, long processingDelayMillis, long schedulingDelayMillis) {
    // Batches without records or without measurable processing time say nothing about the rate.
    if (timeMillis <= latestTime || records <= 0 || processingDelayMillis <= 0) {
      return OptionalDouble.empty();
    }
    double secondsSinceUpdate = (timeMillis - latestTime) / 1000.0;
    double processingRate = records * 1000.0 / processingDelayMillis;
    latestTime = timeMillis;
    if (!seeded) {
      seeded = true;
      latestRate = processingRate;
      latestError = 0;
      return OptionalDouble.empty();
    }
    double error = latestRate - processingRate;
    // The backlog accumulated by scheduling delay, expressed as a rate over one batch interval.
    double historicalError = schedulingDelayMillis * processingRate / batchIntervalMillis;
    double errorSlope = (error - latestError) / secondsSinceUpdate;
    double rate =
        Math.max(
            minRate,
            latestRate
                - proportional * error
                - integral * historicalError
                - derivative * errorSlope);
    latestRate = rate;
    latestError = error;
    return OptionalDouble.of(rate);
  }
}
