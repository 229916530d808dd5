package io.sluice.examples;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * A Kafka value deserializer for {@link Order}s that throws on malformed JSON, so that the direct
 * stream's {@code ErrorPolicy} (here: a dead-letter topic) handles poison pills before user code
 * sees them. Stateless and thread-safe.
 */
public final class OrderDeserializer implements Deserializer<Order> {

  /** Used by Kafka through {@code value.deserializer}. */
  public OrderDeserializer() {}

  /**
   * Parses one record value.
   *
   * @throws SerializationException when the value is not a valid order
   */
  @Override
  public Order deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    try {
      return Order.parse(data);
    } catch (IllegalArgumentException e) {
      throw new SerializationException("malformed order in " + topic + ": " + e.getMessage(), e);
    }
  }
}
