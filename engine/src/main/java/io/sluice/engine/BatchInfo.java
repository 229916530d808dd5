package io.sluice.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * @param inputRecords each input's record count by input name, in registration order, for the
 *     inputs that know it
 */
public record BatchInfo(
    long batchId,
    Instant batchTime,
    long numRecords,
    Instant submissionTime,
    Optional<Instant> processingStartTime,
    Optional<Instant> processingEndTime,
    Map<String, Long> inputRecords) {

  /** Copies {@code inputRecords}, keeping its order. */
  public BatchInfo {
    inputRecords = Collections.unmodifiableMap(new LinkedHashMap<>(inputRecords));
  }

  /** A batch whose per-input record counts are not known. */
  public BatchInfo(
      long batchId,
      Instant batchTime,
      long numRecords,
      Instant submissionTime,
      Optional<Instant> processingStartTime,
      Optional<Instant> processingEndTime) {
    this(
        batchId,
        batchTime,
        numRecords,
        submissionTime,
        processingStartTime,
        processingEndTime,
        Map.of());
  }

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
