package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.BadRecordException;
import io.sluice.kafka.direct.ErrorPolicy;
import java.lang.reflect.InvocationTargetException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns raw records into typed ones with the user's deserializers, applying the stream's {@link
 * ErrorPolicy} to records that fail. One instance per task: deserializers need not be thread-safe.
 * {@link #finish()} must be called before the task reports success, so that no dead letter is lost.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class RecordDecoder<K, V> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RecordDecoder.class);

  private final Deserializer<K> keys;
  private final Deserializer<V> values;
  private final boolean ownsKeys;
  private final boolean ownsValues;
  private final ErrorPolicy policy;
  private final DeadLetterSender deadLetters;
  private final KafkaMetrics metrics;
  private final long batchId;
  private final List<Future<RecordMetadata>> pending = new ArrayList<>();

  /**
   * Creates the deserializers named by {@code key.deserializer} and {@code value.deserializer} (a
   * class or class name, configured with {@code params}; an instance is used as is).
   *
   * @param deadLetters the stream's sender, required for a dead-letter policy
   * @param batchId the batch whose plan holds the records, or -1 outside a stream batch
   */
  public RecordDecoder(
      Map<String, Object> params,
      ErrorPolicy policy,
      DeadLetterSender deadLetters,
      KafkaMetrics metrics,
      long batchId) {
    Object k = params.get(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG);
    Object v = params.get(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);
    this.ownsKeys = !(k instanceof Deserializer<?>);
    this.ownsValues = !(v instanceof Deserializer<?>);
    this.keys = deserializer(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, k, params, true);
    this.values = deserializer(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, v, params, false);
    this.policy = policy;
    this.deadLetters = deadLetters;
    this.metrics = metrics;
    this.batchId = batchId;
    if (policy instanceof ErrorPolicy.DeadLetter && deadLetters == null) {
      throw new IllegalArgumentException("a dead-letter policy needs a DeadLetterSender");
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> Deserializer<T> deserializer(
      String setting, Object value, Map<String, Object> params, boolean isKey) {
    if (value instanceof Deserializer<?> d) {
      return (Deserializer<T>) d;
    }
    Class<?> type;
    try {
      if (value instanceof Class<?> c) {
        type = c;
      } else if (value instanceof String name) {
        type = Class.forName(name.trim(), true, contextLoader());
      } else {
        throw new IllegalArgumentException(
            setting + " must be a Deserializer class, class name or instance, was " + value);
      }
      if (!Deserializer.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(
            setting
                + " must implement "
                + Deserializer.class.getName()
                + ", was "
                + type.getName());
      }
      Deserializer<T> d = (Deserializer<T>) type.getDeclaredConstructor().newInstance();
      d.configure(params, isKey);
      return d;
    } catch (ClassNotFoundException
        | NoSuchMethodException
        | InstantiationException
        | IllegalAccessException
        | InvocationTargetException e) {
      throw new IllegalArgumentException(
          "cannot create " + setting + " from " + value + ": " + e, e);
    }
  }

  private static ClassLoader contextLoader() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return cl != null ? cl : RecordDecoder.class.getClassLoader();
  }

  /**
   * The typed record, or null when {@code raw} cannot be deserialized and the policy skipped it or
   * sent it to the dead-letter topic.
   *
   * @throws BadRecordException under the fail policy
   * @throws RuntimeException under the dead-letter policy, when the dead letter could not be sent
   *     (see {@link DeadLetterSender#failure})
   */
  public ConsumerRecord<K, V> decode(ConsumerRecord<ByteBuffer, ByteBuffer> raw) {
    K key;
    V value;
    ByteBuffer k = raw.key();
    ByteBuffer v = raw.value();
    // A deserializer may move a buffer's position; a dead letter needs the original bytes.
    int kPos = k == null ? 0 : k.position();
    int vPos = v == null ? 0 : v.position();
    try {
      key = k == null ? null : keys.deserialize(raw.topic(), raw.headers(), k);
      value = v == null ? null : values.deserialize(raw.topic(), raw.headers(), v);
    } catch (RuntimeException e) {
      if (k != null) {
        k.position(kPos);
      }
      if (v != null) {
        v.position(vPos);
      }
      return bad(raw, e);
    }
    return new ConsumerRecord<>(
        raw.topic(),
        raw.partition(),
        raw.offset(),
        raw.timestamp(),
        raw.timestampType(),
        raw.serializedKeySize(),
        raw.serializedValueSize(),
        key,
        value,
        raw.headers(),
        raw.leaderEpoch());
  }

  private ConsumerRecord<K, V> bad(ConsumerRecord<ByteBuffer, ByteBuffer> raw, RuntimeException e) {
    if (policy instanceof ErrorPolicy.Skip) {
      skipped(metrics, raw.topic(), raw.partition(), raw.offset(), e);
      return null;
    }
    if (policy instanceof ErrorPolicy.DeadLetter) {
      Future<RecordMetadata> sent = deadLetters.send(raw, e, batchId);
      if (sent.isDone()) {
        // Failed in send (no metadata within max.block.ms): fail now, not once per later bad
        // record.
        await(sent);
      }
      pending.add(sent);
      metrics.badRecord("dead-letter");
      return null;
    }
    throw new BadRecordException(raw.topic(), raw.partition(), raw.offset(), e);
  }

  /**
   * Logs and counts a record the skip policy leaves out, whichever path found it: this decoder, or
   * a consumer that deserializes itself (see {@link PartitionReader}).
   */
  static void skipped(
      KafkaMetrics metrics, String topic, int partition, long offset, Throwable cause) {
    log.warn(
        "skipping the record at {}-{} offset {}: {}", topic, partition, offset, cause.toString());
    metrics.badRecord("skip");
  }

  /**
   * Blocks until this task's dead letters are acknowledged.
   *
   * @throws KafkaException when one could not be written; the task must fail so nothing is lost
   * @throws io.sluice.engine.TerminalException when the dead-letter topic does not exist
   */
  public void finish(org.apache.kafka.common.TopicPartition partition) {
    finish();
    if (deadLetters != null) {
      deadLetters.markDecoded(batchId, partition);
    }
  }

  /** As {@link #finish(org.apache.kafka.common.TopicPartition)}, for a decoder outside a range. */
  public void finish() {
    if (pending.isEmpty()) {
      return;
    }
    deadLetters.flush();
    for (Future<RecordMetadata> f : pending) {
      await(f);
    }
    pending.clear();
  }

  private void await(Future<RecordMetadata> sent) {
    try {
      sent.get();
    } catch (ExecutionException e) {
      throw deadLetters.failure(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException(
          "interrupted while flushing dead letters to " + deadLetters.topic(), e);
    }
  }

  /** Closes deserializers this decoder created. */
  @Override
  public void close() {
    if (ownsKeys) {
      keys.close();
    }
    if (ownsValues) {
      values.close();
    }
  }
}
