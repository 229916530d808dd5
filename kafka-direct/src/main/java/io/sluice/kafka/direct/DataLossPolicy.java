package io.sluice.kafka.direct;

/**
 * What a direct stream does when its next offset of a partition is not in the partition's log: it
 * is before the log start (retention or {@code deleteRecords} deleted it), after the log end (the
 * topic was recreated or truncated, or a reset went past the end), or the partition disappeared.
 */
public enum DataLossPolicy {
  /**
   * Fail the batch with a {@link DataLossException} naming the partition, the offsets and the case.
   * The default.
   */
  FAIL,
  /**
   * Continue, with a warning naming the partition, the offsets and the case: before the log start,
   * jump to the log start and count the skipped offsets in {@code sluice.kafka.data.loss.offsets};
   * after the log end, jump to the log end (as a Kafka consumer with {@code
   * auto.offset.reset=latest} or Spark would) rather than re-read the whole log from its start; the
   * records then in the log are not read and not counted. A vanished partition is dropped.
   */
  SKIP
}
