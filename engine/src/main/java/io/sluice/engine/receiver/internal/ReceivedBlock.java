package io.sluice.engine.receiver.internal;

import java.util.Map;
import java.util.Objects;

/**
 * A block a receiver stored: what the {@link ReceivedBlockTracker} keeps about it.
 *
 * @param stream the receiver input stream's name
 * @param blockId unique within the stream
 * @param walPointer where the block's data is in the stream's write-ahead log; null when the stream
 *     keeps blocks in memory only
 * @param numRecords how many records the block holds
 * @param metadata small source-specific facts, e.g. the Kafka offsets the block ends at, keyed by
 *     {@code topic-partition}; copied, unmodifiable
 */
public record ReceivedBlock(
    String stream,
    long blockId,
    WalPointer walPointer,
    long numRecords,
    Map<String, String> metadata) {

  /** Checks the fields and copies the metadata. */
  public ReceivedBlock {
    Objects.requireNonNull(stream, "stream");
    if (stream.isEmpty()) {
      throw new IllegalArgumentException("stream must not be empty");
    }
    if (blockId < 0) {
      throw new IllegalArgumentException("blockId must be >= 0, was " + blockId);
    }
    if (numRecords < 0) {
      throw new IllegalArgumentException("numRecords must be >= 0, was " + numRecords);
    }
    metadata = Map.copyOf(Objects.requireNonNull(metadata, "metadata"));
  }
}
