package io.sluice.sinks.internal;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Lets the Kafka sink's producer, built with the user's serializers, also write dead letters whose
 * key and value are already bytes: a letter's key and value travel wrapped in {@link Raw}, which
 * the sink's serializers pass through unchanged; everything else goes to the user's serializer.
 */
final class DeadLetterBytes {

  private DeadLetterBytes() {}

  /** Bytes to write as they are ({@code null} stays null). */
  record Raw(byte[] bytes) {}

  /** The dead letter as a record of the sink's producer. */
  static ProducerRecord<Object, Object> record(ProducerRecord<byte[], byte[]> letter) {
    return new ProducerRecord<>(
        letter.topic(),
        letter.partition(),
        letter.timestamp(),
        new Raw(letter.key()),
        new Raw(letter.value()),
        letter.headers());
  }

  /**
   * The user's serializer for keys or values, passing {@link Raw} through: {@code given}, or the
   * class named by {@code key.serializer}/{@code value.serializer} in {@code config}, created and
   * configured here as the producer would.
   */
  @SuppressWarnings("unchecked")
  static Serializer<Object> passingRaw(
      Serializer<?> given, Map<String, Object> config, boolean isKey) {
    Serializer<Object> user;
    if (given != null) {
      user = (Serializer<Object>) given;
    } else {
      String setting =
          isKey
              ? ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG
              : ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG;
      user = new ProducerConfig(config).getConfiguredInstance(setting, Serializer.class);
      user.configure(config, isKey);
    }
    return new PassingRaw(user);
  }

  private static final class PassingRaw implements Serializer<Object> {

    private final Serializer<Object> user;

    PassingRaw(Serializer<Object> user) {
      this.user = user;
    }

    @Override
    public byte[] serialize(String topic, Object data) {
      return data instanceof Raw raw ? raw.bytes() : user.serialize(topic, data);
    }

    @Override
    public byte[] serialize(String topic, Headers headers, Object data) {
      return data instanceof Raw raw ? raw.bytes() : user.serialize(topic, headers, data);
    }

    @Override
    public void close() {
      user.close();
    }
  }
}
