package io.sluice.sinks;

import io.sluice.engine.function.Function;
import io.sluice.sinks.internal.KafkaSinkImpl;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes each batch's records to Kafka.
 *
 * <p><b>Exactly-once</b> (the default): one transactional producer per sink with {@code
 * transactional.id = <appName>-<name>}, the same across restarts. {@code open()} checks {@code
 * transaction.timeout.ms} against the broker's {@code transaction.max.timeout.ms} and the batch
 * interval, then calls {@code initTransactions()}, which fences any older producer with that id (a
 * zombie driver) and aborts a transaction a crashed run left open. Per batch, on the job thread:
 * {@code beginTransaction}, the batch's tasks send their partitions concurrently through the shared
 * producer, {@code flush}, the group's committed offsets are checked to stand where the batch's
 * ranges begin (else the transaction is aborted: a reset or another writer moved the group), the
 * batch's offsets are added with {@code sendOffsetsToTransaction} (metadata {@link
 * io.sluice.offsets.KafkaCommitMetadata}), and {@code commitTransaction}: the output and the input
 * offsets become visible to {@code read_committed} consumers together. A failed send or commit
 * aborts the transaction and fails the batch with a {@link SinkException}; a fenced producer fails
 * the batch and every later one (the process is a zombie: stop it). Nothing is swallowed, and the
 * restarted application replays the batch. The transaction and the classification of its failures
 * are {@link io.sluice.offsets.TransactionalProducer}'s, shared with the Kafka offset store.
 *
 * <p><b>At-least-once</b>: an idempotent producer, flushed at the end of every batch; offsets are
 * left to the input's own commit, so a replayed batch is sent again.
 *
 * @param <T> record type
 */
public interface KafkaSink<T> extends TransactionalSink<T> {

  /** A new builder. */
  static <T> Builder<T> builder() {
    return new Builder<>();
  }

  /**
   * Exactly-once: checks {@code transaction.timeout.ms} against the broker's {@code
   * transaction.max.timeout.ms} and the context's batch interval, then creates the producer and
   * calls {@code initTransactions()} (fencing older producers with the same id, aborting their open
   * transaction). Blocking; called by {@code StreamingContext.start()}.
   *
   * @throws IllegalStateException naming the settings and values when the transaction timeout does
   *     not fit
   * @throws SinkException when the broker cannot be reached or {@code initTransactions()} fails
   */
  @Override
  void open(io.sluice.engine.StreamingContext context);

  /** Closes the producer (aborting a transaction still open) and the admin client. Idempotent. */
  @Override
  void close();

  /**
   * The producer's {@code transactional.id}, known after {@code open()}; null in at-least-once
   * mode.
   */
  String transactionalId();

  /**
   * Builds a {@link KafkaSink}. Not thread-safe; {@link #build()} copies the settings.
   *
   * @param <T> record type
   */
  final class Builder<T> {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    private Map<String, Object> producerConfig;
    private Function<T, ? extends ProducerRecord<?, ?>> record;
    private Serializer<?> keySerializer;
    private Serializer<?> valueSerializer;
    private boolean exactlyOnce = true;
    private String name = "kafka";
    private Duration transactionTimeout;
    private Duration timeout = Duration.ofSeconds(30);

    private Builder() {}

    /**
     * Producer settings (required: {@code bootstrap.servers}). Must not contain {@code
     * transactional.id}, which the sink derives. {@code transaction.timeout.ms} here is used unless
     * {@link #transactionTimeout(Duration)} is set.
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

    /** Transactional: output and input offsets commit together (the default). */
    public Builder<T> exactlyOnce() {
      this.exactlyOnce = true;
      return this;
    }

    /** Idempotent producer without transactions: a replayed batch is sent again. */
    public Builder<T> atLeastOnce() {
      this.exactlyOnce = false;
      return this;
    }

    /**
     * The sink's name (default {@code kafka}; letters, digits, {@code . _ -}): the transactional id
     * is {@code <appName>-<name>}, so keep it stable across releases and unique per sink in an
     * application.
     */
    public Builder<T> name(String name) {
      this.name = name;
      return this;
    }

    /**
     * The transaction timeout ({@code transaction.timeout.ms}); must exceed the batch interval and
     * not exceed the broker's {@code transaction.max.timeout.ms}, both checked at {@code open()}.
     */
    public Builder<T> transactionTimeout(Duration transactionTimeout) {
      this.transactionTimeout = transactionTimeout;
      return this;
    }

    /** How long admin calls (broker settings, committed offsets) may take (default 30 s). */
    public Builder<T> timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /**
     * Validates the settings and builds the sink.
     *
     * @throws IllegalArgumentException naming the first invalid setting and its value
     */
    public KafkaSink<T> build() {
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
      if (transactionTimeout != null && !exactlyOnce) {
        throw new IllegalArgumentException(
            "transactionTimeout applies to exactlyOnce() only, was "
                + transactionTimeout
                + " with atLeastOnce()");
      }
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
      }
      return new KafkaSinkImpl<>(
          new KafkaSinkImpl.Settings<>(
              Map.copyOf(producerConfig),
              record,
              keySerializer,
              valueSerializer,
              exactlyOnce,
              name,
              transactionTimeout,
              timeout));
    }
  }
}
