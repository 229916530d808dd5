package io.sluice.kafka.direct;

/**
 * What a direct stream does when offsets it still has to read are gone: deleted by retention
 * (the log now starts after the stream's next offset), or the partition disappeared.
 */
public enum DataLossPolicy {
  /** Fail the batch with a {@link DataLossException} naming the partition and the offsets. The default. */
  FAIL,
  /** Jump to the log start, log a warning and count the skipped offsets in {@code sluice.kafka.data.loss.offsets}. */
  SKIP
}
