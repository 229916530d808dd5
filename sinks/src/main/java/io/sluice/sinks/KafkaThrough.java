package io.sluice.sinks;

import io.sluice.engine.KV;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Re-keys a stream through a Kafka topic, so that keyed state in group mode can follow a new key:
 * keyed state moves between processes with its input's partitions, so its keys must be the ones the
 * input is partitioned by. {@link #through} writes each element to an intermediate topic, keyed by
 * the new key (Kafka's default partitioner puts each key in one partition), with an exactly-once
 * {@link KafkaSink} that commits the source input's offsets in the same transaction, and returns a
 * group-mode direct stream of that topic, over which {@code mapWithState} or {@code
 * updateStateByKey} may follow the new key.
 *
 * <pre>{@code
 * DStream<ConsumerRecord<String, String>> byCountry =
 *     KafkaThrough.through(clicks, "clicks-by-country", r -> KV.of(country(r.value()), r.value()),
 *         Serdes.String(), Serdes.String(),
 *         Map.of("bootstrap.servers", servers, "group.id", "clicks-by-country"));
 * byCountry.mapToPair(r -> KV.of(r.key(), 1L)).mapWithState(...).writeTo(jdbcSink);
 * }</pre>
 *
 * <p>Every input of the context must be in group mode; each of them is then committed by the one
 * exactly-once output that reads it (the source by this sink, the intermediate topic by the output
 * after the state), each in its own transaction. A record written to the intermediate topic is read
 * in a later batch.
 */
public final class KafkaThrough {

  private KafkaThrough() {}

  /**
   * Writes {@code stream} to {@code topic} keyed by {@code keyed} and reads it back.
   *
   * @param stream the stream to re-key; its inputs must be group-mode Kafka direct streams
   * @param topic the intermediate topic; it must exist (create it with as many partitions as the
   *     state should be spread over)
   * @param keyed each element's new key and value
   * @param keySerde how the new key is written and read
   * @param valueSerde how the value is written and read
   * @param kafkaParams {@code bootstrap.servers}, {@code group.id} of the intermediate stream's
   *     consumer group (not the source's), and any client settings (security, ...) for the producer
   *     and the consumer
   * @return a group-mode direct stream of {@code topic}, named {@code through-<topic>}, whose
   *     progress is kept in its consumer group
   */
  public static <T, K, V> DStream<ConsumerRecord<K, V>> through(
      DStream<T> stream,
      String topic,
      Function<T, KV<K, V>> keyed,
      Serde<K> keySerde,
      Serde<V> valueSerde,
      Map<String, Object> kafkaParams) {
    return through(
        stream,
        topic,
        keyed,
        keySerde,
        valueSerde,
        kafkaParams,
        DirectStreamOptions.builder()
            .groupMembership(true)
            .name("through-" + topic.replaceAll("[^A-Za-z0-9._-]", "_"))
            .build());
  }

  /**
   * As {@link #through(DStream, String, Function, Serde, Serde, Map)}, reading the topic back with
   * {@code readOptions}, which must be in group mode: e.g. with the JDBC offset store of the
   * exactly-once {@code JdbcSink} that follows the state ({@code
   * DirectStreamOptions.builder().groupMembership(true).offsetStore(store).build()}).
   *
   * @throws IllegalArgumentException when {@code readOptions} is not in group mode
   */
  public static <T, K, V> DStream<ConsumerRecord<K, V>> through(
      DStream<T> stream,
      String topic,
      Function<T, KV<K, V>> keyed,
      Serde<K> keySerde,
      Serde<V> valueSerde,
      Map<String, Object> kafkaParams,
      DirectStreamOptions readOptions) {
    Objects.requireNonNull(readOptions, "readOptions");
    if (!readOptions.groupMembership()) {
      throw new IllegalArgumentException(
          "readOptions must be in group mode (groupMembership(true)): the stream read back from '"
              + topic
              + "' shares its partitions with the application's other processes");
    }
    Objects.requireNonNull(stream, "stream");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(keyed, "keyed");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    Objects.requireNonNull(kafkaParams, "kafkaParams");
    if (!kafkaParams.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
      throw new IllegalArgumentException(
          "kafkaParams must set group.id: the consumer group of the stream read back from '"
              + topic
              + "'");
    }
    Map<String, Object> producer = new HashMap<>();
    Map<String, Object> consumer = new HashMap<>();
    kafkaParams.forEach(
        (k, v) -> {
          if (ProducerConfig.configNames().contains(k)) {
            producer.put(k, v);
          }
          if (ConsumerConfig.configNames().contains(k)) {
            consumer.put(k, v);
          }
        });
    stream.writeTo(
        KafkaSink.<T>builder()
            .producerConfig(producer)
            .keySerializer(keySerde.serializer())
            .valueSerializer(valueSerde.serializer())
            .record(
                t -> {
                  KV<K, V> kv = keyed.apply(t);
                  return new ProducerRecord<>(topic, kv.key(), kv.value());
                })
            .name("through-" + topic.replaceAll("[^A-Za-z0-9._-]", "_"))
            .exactlyOnce()
            .build());
    consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, keySerde.deserializer().getClass());
    consumer.put(
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, valueSerde.deserializer().getClass());
    consumer.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumer.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return KafkaDirect.createDirectStream(
        stream.context(),
        ConsumerStrategies.<K, V>subscribe(List.of(topic), consumer),
        readOptions);
  }
}
