package io.sluice.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What listeners learn about a batch. Times come from the context's {@link Clock}.
 *
 * @param batchId batch id
 * @param batchTime batch time
 * @param numRecords records the batch covers (sum of the inputs' known record counts)
 * @param submissionTime when the batch was planned and queued
 * @param processingStartTime when its first job started, if it has
 * @param processingEndTime when it completed or failed, if it has
 */
public record BatchInfo(
    long batchId,
    Instant batchTime,
    long numRecords,
    Instant submissionTime,
    Optional<Instant> processingStartTime,
    Optional<Instant> processingEndTime) {

  /** Time from the batch time to the start of processing: grows when batches queue up. */
  public Optional<Duration> schedulingDelay() {
    return processingStartTime.map(s -> Duration.between(batchTime, s));
  }

  /** Time spent running the batch's jobs and commit. */
  public Optional<Duration> processingTime() {
    return processingEndTime.flatMap(e -> processingStartTime.map(s -> Duration.between(s, e)));
  }

  /** Scheduling delay plus processing time. */
  public Optional<Duration> totalDelay() {
    return processingEndTime.map(e -> Duration.between(batchTime, e));
  }
}
