package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class KafkaOffsetStoreContractTest extends OffsetStoreContractTest {

  static String bootstrap;
  static EmbeddedKafka broker;

  @BeforeAll
  static void kafka(EmbeddedKafka kafka) {
    broker = kafka;
    bootstrap = kafka.bootstrapServers();
    createIfAbsent(kafka, ORDERS, 3);
    createIfAbsent(kafka, PAYMENTS, 2);
  }

  static void createIfAbsent(EmbeddedKafka kafka, String topic, int partitions) {
    try {
      kafka.createTopic(topic, partitions);
    } catch (RuntimeException e) {
      if (!String.valueOf(e).contains("exists")) {
        throw e;
      }
    }
  }

  @Override
  protected OffsetStore newStore() {
    return OffsetStores.kafkaBuilder()
        .bootstrapServers(bootstrap)
        .timeout(Duration.ofSeconds(20))
        .build();
  }

  @Override
  protected OffsetStore newStoreKeeping(int batches) {
    return OffsetStores.kafkaBuilder()
        .bootstrapServers(bootstrap)
        .timeout(Duration.ofSeconds(20))
        .historyRetention(batches)
        .build();
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.kafkaBuilder()
        .bootstrapServers(bootstrap)
        .timeout(Duration.ofSeconds(20))
        .commitHook(
            c -> {
              throw new IllegalStateException(
                  "injected failure after the offsets were sent to the transaction");
            })
        .build();
  }

  @Test
  void historyTopicIsCreatedCompactedAndPrunedByTombstones() throws Exception {
    String topic = "history-" + group;
    try (OffsetStore keeping =
        OffsetStores.kafkaBuilder()
            .bootstrapServers(bootstrap)
            .timeout(Duration.ofSeconds(20))
            .historyTopic(topic)
            .historyRetention(2)
            .build()) {
      for (long id = 0; id < 4; id++) {
        keeping.commit(batch(group, id, new OffsetRange(ORDERS, 0, 10 * id, 10 * id + 10)));
      }
      assertThat(keeping.history(group, 10))
          .extracting(BatchCommit::batchId)
          .containsExactly(3L, 2L);
    }
    try (Admin admin = broker.admin()) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Config config =
          admin.describeConfigs(List.of(resource)).all().get(20, TimeUnit.SECONDS).get(resource);
      assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value())
          .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
    }
    // Four commits and a tombstone for each of batches 0 and 1, keyed <group>#<batchId>.
    List<ConsumerRecord<String, String>> records = broker.consumeAll(topic, true);
    assertThat(records)
        .extracting(ConsumerRecord::key, r -> r.value() == null)
        .containsExactly(
            tuple(group + "#0", false),
            tuple(group + "#1", false),
            tuple(group + "#2", false),
            tuple(group + "#0", true),
            tuple(group + "#3", false),
            tuple(group + "#1", true));
  }

  @Test
  void commitIsVisibleToKafkaToolsWithBatchMetadata() {
    store.commit(batch(group, 7, new OffsetRange(ORDERS, 2, 0, 0)));
    Map<TopicPartition, OffsetAndMetadata> offsets = broker.committedOffsets(group);
    assertThat(offsets).containsOnlyKeys(tp(ORDERS, 2));
    assertThat(offsets.get(tp(ORDERS, 2)).offset()).isZero();
    assertThat(offsets.get(tp(ORDERS, 2)).metadata())
        .isEqualTo("sluice:v1:batch=7;time=2026-11-20T10:00:03.500Z");
  }

  @Test
  void groupMovedByAKafkaToolFencesTheNextCommit() throws Exception {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    // What kafka-consumer-groups --reset-offsets does: no transactional id, so no producer fence.
    try (Admin admin = broker.admin()) {
      admin
          .alterConsumerGroupOffsets(group, Map.of(tp(ORDERS, 0), new OffsetAndMetadata(4)))
          .all()
          .get(20, TimeUnit.SECONDS);
    }

    assertThatThrownBy(() -> store.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20))))
        .isInstanceOfSatisfying(
            OffsetFencedException.class,
            e -> {
              assertThat(e.fromOffset()).isEqualTo(10);
              assertThat(e.storedOffset()).isEqualTo(4);
            });
    assertThat(broker.committedOffsets(group).get(tp(ORDERS, 0)).offset()).isEqualTo(4);
    // The refusal aborted only that transaction: the same store commits from the tool's position.
    store.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 4, 12)));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 12L));
  }

  @Test
  void aBatchIdTheGroupHoldsFromAnotherWriterIsSeenByTheNextCommit() throws Exception {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    // Another writer of the group's offsets (e.g. an exactly-once KafkaSink, which has its own
    // transactional
    // id and so does not fence this store) records batch 5 at the same position.
    try (Admin admin = broker.admin()) {
      admin
          .alterConsumerGroupOffsets(
              group,
              Map.of(tp(ORDERS, 0), new OffsetAndMetadata(10, KafkaCommitMetadata.encode(5, T0))))
          .all()
          .get(20, TimeUnit.SECONDS);
    }

    // The store's own memory says batch 0; the group, read inside the transaction, says 5.
    assertThatThrownBy(() -> store.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20))))
        .isInstanceOfSatisfying(
            StaleBatchException.class, e -> assertThat(e.lastCommittedBatchId()).isEqualTo(5));
    assertThat(store.lastBatchId(group)).hasValue(5);
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L));
    store.commit(batch(group, 6, new OffsetRange(ORDERS, 0, 10, 20)));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 20L));
  }
}
