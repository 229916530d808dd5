package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.EmbeddedKafka;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
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
    return OffsetStores.kafkaBuilder().bootstrapServers(bootstrap).timeout(Duration.ofSeconds(20)).build();
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.kafkaBuilder().bootstrapServers(bootstrap).timeout(Duration.ofSeconds(20)).commitHook(c -> {
      throw new IllegalStateException("injected failure after the offsets were sent to the transaction");
    }).build();
  }

  @Test
  void commitIsVisibleToKafkaToolsWithBatchMetadata() {
    store.commit(batch(group, 7, new OffsetRange(ORDERS, 2, 0, 0)));
    Map<TopicPartition, OffsetAndMetadata> offsets = broker.committedOffsets(group);
    assertThat(offsets).containsOnlyKeys(tp(ORDERS, 2));
    assertThat(offsets.get(tp(ORDERS, 2)).offset()).isZero();
    assertThat(offsets.get(tp(ORDERS, 2)).metadata()).isEqualTo("sluice:v1:batch=7;time=2026-11-20T10:00:03.500Z");
  }
}
