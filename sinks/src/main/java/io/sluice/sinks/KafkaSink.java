package io.sluice.sinks;

import io.sluice.engine.BatchOutput;
import io.sluice.engine.function.Function;
import io.sluice.sinks.internal.KafkaSinkImpl;
import io.sluice.sinks.internal.TransactionalKafkaSinkImpl;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes each batch's records to Kafka, <b>at-least-once</b>: an idempotent producer ({@code
 * acks=all}), flushed at the end of every batch; offsets are left to the input's own commit, so a
 * replayed batch is sent again. Built by {@code KafkaSink.builder()...build()}.
 *
 * <p>For exactly-once, {@link Builder#exactlyOnce()} leads to a {@link TransactionalKafkaSink}: the
 * type says the guarantee, and only that one is a {@link TransactionalSink}.
 *
 * @param <T> record type
 */
public interface KafkaSink<T> extends BatchOutput<T> {

  /** A new builder. */
  static <T> Builder<T> builder() {
    return new Builder<>();
  }

  /**
   * Creates the producer (and, exactly-once, checks the transaction timeout and fences older
   * producers; see {@link TransactionalKafkaSink#open}). Blocking; called by {@code
   * StreamingContext.start()}.
   *
   * @throws SinkException when the broker cannot be reached
   */
  @Override
  void open(io.sluice.engine.StreamingContext context);

  /** Closes the producer (aborting a transaction still open) and the admin client. Idempotent. */
  @Override
  void close();

  /**
   * Builds an at-least-once {@link KafkaSink}, or, after {@link #exactlyOnce()}, a {@link
   * TransactionalKafkaSink}. Not thread-safe; {@code build()} copies the settings.
   *
   * @param <T> record type
   */
  final class Builder<T> {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    private Map<String, Object> producerConfig;
    private Function<T, ? extends ProducerRecord<?, ?>> record;
    private Serializer<?> keySerializer;
    private Serializer<?> valueSerializer;
    private String name = "kafka";
    private Duration timeout = Duration.ofSeconds(30);

    private Builder() {}

    /**
     * Producer settings (required: {@code bootstrap.servers}). Must not contain {@code
     * transactional.id}, which the exactly-once sink derives. {@code transaction.timeout.ms} here
     * is used unless {@link ExactlyOnceBuilder#transactionTimeout(Duration)} is set.
     */
    public Builder<T> producerConfig(Map<String, ?> producerConfig) {
      this.producerConfig = producerConfig == null ? null : new HashMap<>(producerConfig);
      return this;
    }

    /**
     * Maps a record to the Kafka record to send (required). Runs on task threads, before anything
     * of the partition is sent; must not return null.
     */
    public Builder<T> record(Function<T, ? extends ProducerRecord<?, ?>> record) {
      this.record = record;
      return this;
    }

    /** The key serializer; else {@code key.serializer} in the producer config. */
    public Builder<T> keySerializer(Serializer<?> keySerializer) {
      this.keySerializer = keySerializer;
      return this;
    }

    /** The value serializer; else {@code value.serializer} in the producer config. */
    public Builder<T> valueSerializer(Serializer<?> valueSerializer) {
      this.valueSerializer = valueSerializer;
      return this;
    }

    /**
     * Exactly-once instead: output and input offsets commit in one Kafka transaction. Set the other
     * settings first; the returned builder adds the transaction's own and builds a {@link
     * TransactionalKafkaSink}.
     */
    public ExactlyOnceBuilder<T> exactlyOnce() {
      return new ExactlyOnceBuilder<>(this);
    }

    /**
     * The sink's name (default {@code kafka}; letters, digits, {@code . _ -}), in messages, metrics
     * and the producer's client id; exactly-once, the transactional id is {@code <appName>-<name>},
     * so keep it stable across releases and unique per sink in an application.
     */
    public Builder<T> name(String name) {
      this.name = name;
      return this;
    }

    /** How long admin calls (broker settings, committed offsets) may take (default 30 s). */
    public Builder<T> timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /**
     * Validates the settings and builds the at-least-once sink.
     *
     * @throws IllegalArgumentException naming the first invalid setting and its value
     */
    public KafkaSink<T> build() {
      return new KafkaSinkImpl<>(settings(false, null));
    }

    /** Validates every setting and copies them; {@code transactionTimeout} only exactly-once. */
    private KafkaSinkImpl.Settings<T> settings(boolean exactlyOnce, Duration transactionTimeout) {
      if (producerConfig == null
          || producerConfig.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG) == null) {
        throw new IllegalArgumentException(
            "producerConfig must contain bootstrap.servers, was " + producerConfig);
      }
      if (record == null) {
        throw new IllegalArgumentException("record must be set, was null");
      }
      if (keySerializer == null
          && producerConfig.get(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG) == null) {
        throw new IllegalArgumentException(
            "keySerializer or key.serializer in producerConfig must be set," + " both were null");
      }
      if (valueSerializer == null
          && producerConfig.get(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG) == null) {
        throw new IllegalArgumentException(
            "valueSerializer or value.serializer in producerConfig must be"
                + " set, both were null");
      }
      if (producerConfig.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
        throw new IllegalArgumentException(
            "transactional.id is derived as <appName>-<name>; remove it from"
                + " producerConfig, was '"
                + producerConfig.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG)
                + "'");
      }
      Object idempotence = producerConfig.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
      if (idempotence != null && !Boolean.parseBoolean(idempotence.toString())) {
        throw new IllegalArgumentException(
            "enable.idempotence must be true for KafkaSink, was " + idempotence);
      }
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "name must be letters, digits, '.', '_' or '-', was '" + name + "'");
      }
      if (transactionTimeout != null
          && (transactionTimeout.isNegative() || transactionTimeout.isZero())) {
        throw new IllegalArgumentException(
            "transactionTimeout must be > 0, was " + transactionTimeout);
      }
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
      }
      return new KafkaSinkImpl.Settings<>(
          Map.copyOf(producerConfig),
          record,
          keySerializer,
          valueSerializer,
          exactlyOnce,
          name,
          transactionTimeout,
          timeout);
    }
  }

  /**
   * Builds a {@link TransactionalKafkaSink} from the settings of the {@link Builder} it came from,
   * plus the transaction's own. Not thread-safe; {@link #build()} copies the settings.
   *
   * @param <T> record type
   */
  final class ExactlyOnceBuilder<T> {
    private final Builder<T> common;
    private Duration transactionTimeout;

    private ExactlyOnceBuilder(Builder<T> common) {
      this.common = common;
    }

    /**
     * The transaction timeout ({@code transaction.timeout.ms}); must exceed the batch interval and
     * not exceed the broker's {@code transaction.max.timeout.ms}, both checked at {@code open()}.
     * Default: {@code transaction.timeout.ms} from the producer config, else 60 s.
     */
    public ExactlyOnceBuilder<T> transactionTimeout(Duration transactionTimeout) {
      this.transactionTimeout = transactionTimeout;
      return this;
    }

    /**
     * Validates the settings and builds the exactly-once sink.
     *
     * @throws IllegalArgumentException naming the first invalid setting and its value
     */
    public TransactionalKafkaSink<T> build() {
      return new TransactionalKafkaSinkImpl<>(common.settings(true, transactionTimeout));
    }
  }
}
