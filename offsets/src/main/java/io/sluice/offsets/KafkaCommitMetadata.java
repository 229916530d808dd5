package io.sluice.offsets;

import io.sluice.offsets.internal.CommitCodec;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * The metadata Sluice stores with each partition's offset in a Kafka consumer group: {@code
 * sluice:v1:batch=<id>;time=<ISO instant>}. The Kafka offset store writes it on every commit and
 * reads the last batch id back from it; a sink that commits offsets itself (through {@code
 * sendOffsetsToTransaction}) must write the same text so that the store, the command line and a
 * restarted sink recognise its batches. Thread-safe, stateless.
 */
public final class KafkaCommitMetadata {

  private KafkaCommitMetadata() {}

  /** The metadata text of batch {@code batchId} scheduled at {@code batchTime}. */
  public static String encode(long batchId, Instant batchTime) {
    if (batchId < 0) {
      throw new IllegalArgumentException("batchId must be >= 0, was " + batchId);
    }
    return CommitCodec.kafkaMetadata(
        batchId, java.util.Objects.requireNonNull(batchTime, "batchTime"));
  }

  /**
   * The batch id in {@code metadata} written by {@link #encode}; empty for null, blank or any text
   * Sluice did not write (e.g. offsets committed by a plain consumer).
   */
  public static OptionalLong batchId(String metadata) {
    return CommitCodec.batchIdOfKafkaMetadata(metadata);
  }
}
