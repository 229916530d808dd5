package io.sluice.engine;

import java.util.OptionalDouble;

/**
 * Estimates how many records per second an input should read, from how the last batches went. Used
 * when the context's {@code backpressure} is on. Called on the job scheduler thread only, one batch
 * at a time; implementations need not be thread-safe.
 */
public interface RateEstimator {

  /**
   * Feeds one completed batch and returns the new rate in records/s, or empty when there is no new
   * estimate (e.g. the first batch, which only seeds the estimator, or a batch without records).
   *
   * @param timeMillis the batch completion time, epoch ms
   * @param records records the batch processed
   * @param processingDelayMillis how long the batch ran
   * @param schedulingDelayMillis how long the batch waited before running
   */
  OptionalDouble compute(
      long timeMillis, long records, long processingDelayMillis, long schedulingDelayMillis);
}
