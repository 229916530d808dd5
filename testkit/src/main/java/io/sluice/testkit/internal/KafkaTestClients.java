package io.sluice.testkit.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The client-side helpers behind {@code EmbeddedKafka}. Thread-safe: every call uses its own
 * producer or consumer; the one shared {@link Admin} is thread-safe.
 */
public final class KafkaTestClients implements AutoCloseable {

  /** How long a helper waits for the broker before failing. */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final Comparator<TopicPartition> PARTITION_ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  private final String bootstrapServers;
  private final Admin admin;

  /** Creates the helpers for a running Kafka reachable at {@code bootstrapServers}. */
  public KafkaTestClients(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
    this.admin = newAdmin();
  }

  /** The bootstrap servers the clients connect to. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** A new Admin client the caller owns. */
  public Admin newAdmin() {
    Map<String, Object> config = new HashMap<>();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-testkit-admin-" + UUID.randomUUID());
    return Admin.create(config);
  }

  /** See {@code EmbeddedKafka#producerConfig()}. */
  public Map<String, Object> producerConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return config;
  }

  /** See {@code EmbeddedKafka#consumerConfig(String)}. */
  public Map<String, Object> consumerConfig(String groupId) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return config;
  }

  /** Creates a topic with replication factor 1 and waits until every partition has a leader. */
  public void createTopic(String name, int partitions, Map<String, String> configs) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
    NewTopic topic = new NewTopic(name, partitions, (short) 1).configs(Map.copyOf(configs));
    await("createTopic " + name, admin.createTopics(List.of(topic)).all());
    try {
      Waits.until(() -> leadersAvailable(name, partitions), TIMEOUT, "leaders of topic " + name);
      // The controller names a leader before the broker has taken the leadership on; a produce in
      // between gets NOT_LEADER_OR_FOLLOWER, and Kafka 4.1's idempotent producer can then lose its
      // sequence state (OutOfOrderSequenceException until the delivery timeout). ListOffsets is
      // answered by the partition leader itself, so once it succeeds everywhere, writes do too.
      Waits.until(
          () -> leadersServing(name, partitions), TIMEOUT, "leaders of topic " + name + " serving");
    } catch (TimeoutException e) {
      throw new KafkaException(e.getMessage(), e);
    }
  }

  private boolean leadersAvailable(String name, int partitions) {
    try {
      TopicDescription description =
          admin
              .describeTopics(List.of(name))
              .allTopicNames()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(name);
      return description.partitions().size() == partitions
          && description.partitions().stream()
              .map(TopicPartitionInfo::leader)
              .allMatch(l -> l != null && !l.isEmpty());
    } catch (ExecutionException | TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while waiting for the leaders of topic " + name, e);
    }
  }

  private boolean leadersServing(String name, int partitions) {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(name, p), OffsetSpec.latest());
    }
    try {
      admin.listOffsets(request).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException | TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while waiting for the leaders of topic " + name, e);
    }
  }

  /** Sends with a plain idempotent producer, flushes and returns the metadata in input order. */
  public List<RecordMetadata> produce(List<ProducerRecord<String, String>> records) {
    Map<String, Object> config = producerConfig();
    // One request in flight: a retried first batch can never be overtaken by a later one, which on
    // a
    // partition whose leadership is still settling confuses the broker's idempotence state.
    config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    try (Producer<String, String> producer = new KafkaProducer<>(config)) {
      return sendAll(producer, records);
    }
  }

  /** Sends byte[] records with a plain idempotent producer, flushes and returns the metadata. */
  public List<RecordMetadata> produceBytes(List<ProducerRecord<byte[], byte[]>> records) {
    Map<String, Object> config = producerConfig();
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    try (Producer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
      return sendAll(producer, records);
    }
  }

  /** Sends all records in one transaction and commits or aborts it. */
  public List<RecordMetadata> produceTransactionally(
      List<ProducerRecord<String, String>> records, boolean commit) {
    Map<String, Object> config = producerConfig();
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sluice-testkit-" + UUID.randomUUID());
    try (Producer<String, String> producer = new KafkaProducer<>(config)) {
      producer.initTransactions();
      producer.beginTransaction();
      // sendAll flushes, so aborted records are in the log and leave their offsets behind.
      List<RecordMetadata> metadata = sendAll(producer, records);
      if (commit) {
        producer.commitTransaction();
      } else {
        producer.abortTransaction();
      }
      return metadata;
    }
  }

  private static <K, V> List<RecordMetadata> sendAll(
      Producer<K, V> producer, List<ProducerRecord<K, V>> records) {
    List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
    for (ProducerRecord<K, V> record : records) {
      futures.add(producer.send(record));
    }
    producer.flush();
    List<RecordMetadata> metadata = new ArrayList<>(futures.size());
    for (Future<RecordMetadata> future : futures) {
      metadata.add(await("produce", future));
    }
    return List.copyOf(metadata);
  }

  /** Latest or earliest offsets of every partition of {@code topic}, in partition order. */
  public Map<TopicPartition, Long> offsets(String topic, OffsetSpec spec) {
    Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
    for (TopicPartition tp : partitions(topic)) {
      request.put(tp, spec);
    }
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
        await("listOffsets " + topic, admin.listOffsets(request).all());
    return sorted(request.keySet(), tp -> result.get(tp).offset());
  }

  private List<TopicPartition> partitions(String topic) {
    TopicDescription description =
        await("describeTopics " + topic, admin.describeTopics(List.of(topic)).allTopicNames())
            .get(topic);
    List<TopicPartition> partitions = new ArrayList<>();
    for (TopicPartitionInfo info : description.partitions()) {
      partitions.add(new TopicPartition(topic, info.partition()));
    }
    partitions.sort(PARTITION_ORDER);
    return partitions;
  }

  /** Reads every partition of {@code topic} from its start to its end (or last stable) offset. */
  public List<ConsumerRecord<String, String>> consumeAll(String topic, boolean readCommitted) {
    Map<String, Object> config = consumerConfig("unused");
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        (readCommitted ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED)
            .toString());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, TIMEOUT)) {
        partitions.add(new TopicPartition(info.topic(), info.partition()));
      }
      if (partitions.isEmpty()) {
        throw new KafkaException("topic " + topic + " does not exist");
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // With read_committed, endOffsets returns the last stable offset.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
      List<ConsumerRecord<String, String>> records = new ArrayList<>();
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (!reachedEnd(consumer, end)) {
        if (System.nanoTime() - deadline > 0) {
          throw new KafkaException(
              "consumeAll "
                  + topic
                  + " did not reach end offsets "
                  + end
                  + " within "
                  + TIMEOUT.toMillis()
                  + " ms");
        }
        consumer.poll(Duration.ofMillis(100)).forEach(records::add);
      }
      records.sort(
          Comparator.<ConsumerRecord<String, String>, TopicPartition>comparing(
                  r -> new TopicPartition(r.topic(), r.partition()), PARTITION_ORDER)
              .thenComparingLong(ConsumerRecord::offset));
      return List.copyOf(records);
    }
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey(), TIMEOUT) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Deletes the records of {@code tp} below {@code offset}, as retention would. */
  public void deleteRecordsBefore(TopicPartition tp, long offset) {
    await(
        "deleteRecords " + tp,
        admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(offset))).all());
  }

  /**
   * Committed offsets of {@code groupId}, in topic and partition order; empty for an unknown group.
   */
  public Map<TopicPartition, OffsetAndMetadata> committedOffsets(String groupId) {
    Map<TopicPartition, OffsetAndMetadata> result =
        await(
            "listConsumerGroupOffsets " + groupId,
            admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
    List<TopicPartition> committed = new ArrayList<>();
    result.forEach(
        (tp, offset) -> {
          if (offset != null) {
            committed.add(tp);
          }
        });
    return sorted(committed, result::get);
  }

  private static <V> Map<TopicPartition, V> sorted(
      Collection<TopicPartition> keys, Function<TopicPartition, V> value) {
    List<TopicPartition> ordered = new ArrayList<>(keys);
    ordered.sort(PARTITION_ORDER);
    Map<TopicPartition, V> map = new LinkedHashMap<>();
    for (TopicPartition tp : ordered) {
      map.put(tp, value.apply(tp));
    }
    return java.util.Collections.unmodifiableMap(map);
  }

  private static <T> T await(String operation, Future<T> future) {
    try {
      return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new KafkaException(operation + " failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new KafkaException(
          operation + " did not complete within " + TIMEOUT.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException(operation + " was interrupted", e);
    }
  }

  /** Closes the shared Admin client. */
  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
