package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.ErrorPolicy;
import java.time.Duration;
import java.util.Map;

/**
 * What a stream's tasks share to read their ranges: the Kafka parameters, the consumer cache, the
 * error policy with its dead-letter sender, the poll timeout and the metrics. Thread-safe.
 *
 * @param params the user's Kafka parameters (deserializers included)
 * @param cache task consumers
 * @param consumerDeserializes whether the cache's consumers deserialize themselves (see {@link
 *     KafkaParams#consumerCanDeserialize}); else they read {@code ByteBuffer} views for a {@link
 *     #decoder(long)}
 * @param errorPolicy what to do with undeserializable records
 * @param deadLetters the sender for a dead-letter policy, else null
 * @param pollTimeout how long a task may make no progress
 * @param metrics the stream's meters
 */
public record ReadSupport(
    Map<String, Object> params,
    ConsumerCache cache,
    boolean consumerDeserializes,
    ErrorPolicy errorPolicy,
    DeadLetterSender deadLetters,
    Duration pollTimeout,
    KafkaMetrics metrics) {

  /**
   * A typed decoder for one task reading part of batch {@code batchId} (-1 outside a stream batch).
   */
  public <K, V> RecordDecoder<K, V> decoder(long batchId) {
    return new RecordDecoder<>(params, errorPolicy, deadLetters, metrics, batchId);
  }
}
