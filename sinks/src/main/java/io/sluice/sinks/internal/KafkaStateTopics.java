package io.sluice.sinks.internal;

import io.sluice.engine.state.StateChange;
import io.sluice.sinks.SinkException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The changelog of keyed state kept per input partition (group mode) in compacted Kafka topics, one
 * per operator: {@code <app>-<operator>-changelog}. The changes of input partition {@code
 * <topic>-<n>} go to the changelog's partition {@code n}, keyed by the input partition and the
 * state key, the value after the batch as the record's value (null, a tombstone, when the batch
 * removed the key). They are sent in the batch's transaction with its output and offsets, so a
 * {@code read_committed} reader sees exactly the committed batches' state, and compaction keeps the
 * last value of every key.
 */
final class KafkaStateTopics {

  private final String app;
  private final Map<String, Object> consumerConfig;
  private final Admin admin;
  private final Duration timeout;
  private final Map<String, Integer> partitions = new ConcurrentHashMap<>();

  KafkaStateTopics(String app, Map<String, Object> clientConfig, Admin admin, Duration timeout) {
    this.app = app;
    this.admin = admin;
    this.timeout = timeout;
    Map<String, Object> config = new HashMap<>();
    clientConfig.forEach(
        (k, v) -> {
          if (ConsumerConfig.configNames().contains(k)) {
            config.put(k, v);
          }
        });
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-state-restore-" + app);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    this.consumerConfig = Map.copyOf(config);
  }

  /** The changelog topic of {@code operator}'s state of input partition {@code source}. */
  String topic(String operator, String source) {
    return app + "-" + operator + "-" + source.substring(0, source.lastIndexOf('-')) + "-changelog";
  }

  /** The changelog records of {@code changes}, creating or growing the topics they go to. */
  List<ProducerRecord<Object, Object>> records(List<StateChange> changes) {
    List<ProducerRecord<Object, Object>> out = new ArrayList<>(changes.size());
    Map<String, Integer> needed = new LinkedHashMap<>();
    for (StateChange c : changes) {
      needed.merge(topic(c.operator(), c.source()), partitionOf(c.source()) + 1, Math::max);
    }
    needed.forEach(this::ensure);
    for (StateChange c : changes) {
      out.add(
          new ProducerRecord<>(
              topic(c.operator(), c.source()),
              partitionOf(c.source()),
              new DeadLetterBytes.Raw(key(c.source(), c.key())),
              new DeadLetterBytes.Raw(c.value())));
    }
    return out;
  }

  /**
   * Reads the committed state of {@code operator} for input partition {@code source}: the changelog
   * partition from its start to its last stable offset, the last value of each key.
   */
  void restore(String operator, String source, BiConsumer<byte[], byte[]> entry)
      throws InterruptedException, ExecutionException, TimeoutException {
    String topic = topic(operator, source);
    int n = partitionOf(source);
    Optional<Integer> count = describe(topic);
    if (count.isEmpty() || count.get() <= n) {
      return; // nothing was ever written for it
    }
    TopicPartition tp = new TopicPartition(topic, n);
    byte[] prefix = prefix(source);
    Map<ByteBuffer, byte[]> state = new LinkedHashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
      long deadline = System.nanoTime() + Math.max(timeout.toNanos(), 1);
      while (consumer.position(tp, timeout) < end) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() >= end || !startsWith(r.key(), prefix)) {
            continue;
          }
          ByteBuffer key = ByteBuffer.wrap(r.key(), prefix.length, r.key().length - prefix.length);
          if (r.value() == null) {
            state.remove(key);
          } else {
            state.put(key, r.value());
          }
        }
        if (System.nanoTime() > deadline) {
          throw new TimeoutException(
              "reading " + tp + " up to offset " + end + " took longer than " + timeout);
        }
      }
    }
    state.forEach(
        (k, v) -> {
          byte[] key = new byte[k.remaining()];
          k.duplicate().get(key);
          entry.accept(key, v);
        });
  }

  private void ensure(String topic, int wanted) {
    Integer known = partitions.get(topic);
    if (known != null && known >= wanted) {
      return;
    }
    try {
      Optional<Integer> count = describe(topic);
      if (count.isEmpty()) {
        try {
          admin
              .createTopics(
                  List.of(
                      new NewTopic(topic, Optional.of(wanted), Optional.empty())
                          .configs(
                              Map.of(
                                  TopicConfig.CLEANUP_POLICY_CONFIG,
                                  TopicConfig.CLEANUP_POLICY_COMPACT))))
              .all()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
          count = Optional.of(wanted);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          count = describe(topic);
        }
      }
      if (count.orElse(0) < wanted) {
        admin
            .createPartitions(Map.of(topic, NewPartitions.increaseTo(wanted)))
            .all()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        count = Optional.of(wanted);
      }
      partitions.put(topic, count.orElse(wanted));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SinkException("interrupted while creating state changelog topic " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new SinkException(
          "cannot create or grow state changelog topic " + topic + ": " + e.getCause(), e);
    }
  }

  private Optional<Integer> describe(String topic)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      Map<String, TopicDescription> d =
          admin
              .describeTopics(Set.of(topic))
              .allTopicNames()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return Optional.of(d.get(topic).partitions().size());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The partition number of input partition {@code source} ({@code <topic>-<n>}). */
  static int partitionOf(String source) {
    int dash = source.lastIndexOf('-');
    try {
      return Integer.parseInt(source.substring(dash + 1));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "not a Kafka topic-partition: '" + source + "' (expected <topic>-<partition>)", e);
    }
  }

  private static byte[] prefix(String source) {
    byte[] s = source.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(2 + s.length).putShort((short) s.length).put(s).array();
  }

  private static byte[] key(String source, byte[] stateKey) {
    byte[] p = prefix(source);
    return ByteBuffer.allocate(p.length + stateKey.length).put(p).put(stateKey).array();
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    if (key == null || key.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (key[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
