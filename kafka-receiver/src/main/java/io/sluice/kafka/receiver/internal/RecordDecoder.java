package io.sluice.kafka.receiver.internal;

import io.sluice.engine.TerminalException;
import io.sluice.engine.rdd.TaskContext;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Turns one block's {@link ReceivedRecord}s into {@link ConsumerRecord}s with the user's key and
 * value deserializers, lazily, in a task. Each decoder creates its own deserializers (they need not
 * be thread-safe) and closes them when the task ends or the block is exhausted. A record that
 * cannot be deserialized fails the task with a {@link TerminalException} naming its topic,
 * partition and offset: deserializing it again would fail the same way, so the batch fails.
 *
 * @param <K> key type
 * @param <V> value type
 */
final class RecordDecoder<K, V> implements Iterator<ConsumerRecord<K, V>> {

  private final Iterator<ReceivedRecord> records;
  private final String group;
  private final Deserializer<K> keys;
  private final Deserializer<V> values;
  private boolean closed;

  private RecordDecoder(Iterator<ReceivedRecord> records, ReceiverParams params) {
    this.records = records;
    this.group = params.group();
    this.keys = params.newDeserializer(true);
    Deserializer<V> v;
    try {
      v = params.newDeserializer(false);
    } catch (RuntimeException e) {
      keys.close();
      throw e;
    }
    this.values = v;
  }

  /**
   * The decoded {@code records}; the deserializers are closed when the running task ends (or, out
   * of a task, when the records are exhausted).
   */
  static <K, V> Iterator<ConsumerRecord<K, V>> decode(
      ReceiverParams params, Iterator<ReceivedRecord> records) {
    RecordDecoder<K, V> decoder = new RecordDecoder<>(records, params);
    TaskContext.current().ifPresent(task -> task.addCompletionListener(decoder::close));
    return decoder;
  }

  @Override
  public boolean hasNext() {
    if (closed) {
      return false;
    }
    if (records.hasNext()) {
      return true;
    }
    close();
    return false;
  }

  @Override
  public ConsumerRecord<K, V> next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    ReceivedRecord r = records.next();
    Headers headers = new RecordHeaders(r.headers());
    K key = deserialize(keys, r, headers, r.key(), "key");
    V value = deserialize(values, r, headers, r.value(), "value");
    return new ConsumerRecord<>(
        r.topic(),
        r.partition(),
        r.offset(),
        r.timestamp(),
        r.timestampType(),
        r.key() == null ? -1 : r.key().length,
        r.value() == null ? -1 : r.value().length,
        key,
        value,
        headers,
        Optional.empty());
  }

  private <T> T deserialize(
      Deserializer<T> d, ReceivedRecord r, Headers headers, byte[] bytes, String what) {
    if (bytes == null) {
      return null;
    }
    try {
      return d.deserialize(r.topic(), headers, bytes);
    } catch (RuntimeException e) {
      throw new TerminalException(
          "cannot deserialize the "
              + what
              + " of the record at "
              + r.topic()
              + "-"
              + r.partition()
              + " offset "
              + r.offset()
              + " (Kafka receiver of group '"
              + group
              + "'): "
              + e,
          e);
    }
  }

  private void close() {
    if (!closed) {
      closed = true;
      try {
        keys.close();
      } finally {
        values.close();
      }
    }
  }
}
