package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class EmbeddedKafkaTest {

  private final EmbeddedKafka kafka;

  EmbeddedKafkaTest(EmbeddedKafka kafka) {
    this.kafka = kafka;
  }

  private static List<ProducerRecord<String, String>> records(
      String topic, int partition, String prefix, int count) {
    return IntStream.range(0, count)
        .mapToObj(i -> new ProducerRecord<>(topic, partition, prefix + "-k" + i, prefix + "-v" + i))
        .toList();
  }

  private static List<String> values(List<ConsumerRecord<String, String>> records) {
    return records.stream().map(ConsumerRecord::value).toList();
  }

  @Test
  void producedRecordsAreConsumedInPartitionAndOffsetOrder() {
    kafka.createTopic("plain", 2);
    List<ProducerRecord<String, String>> sent = new ArrayList<>(records("plain", 1, "b", 3));
    sent.addAll(records("plain", 0, "a", 2));

    List<RecordMetadata> metadata = kafka.produce(sent);

    assertThat(metadata)
        .extracting(RecordMetadata::partition, RecordMetadata::offset)
        .containsExactly(tuple(1, 0L), tuple(1, 1L), tuple(1, 2L), tuple(0, 0L), tuple(0, 1L));
    List<ConsumerRecord<String, String>> consumed = kafka.consumeAll("plain", false);
    assertThat(values(consumed)).containsExactly("a-v0", "a-v1", "b-v0", "b-v1", "b-v2");
    assertThat(consumed.get(0).key()).isEqualTo("a-k0");
    assertThat(kafka.endOffsets("plain"))
        .containsExactly(
            Map.entry(new TopicPartition("plain", 0), 2L),
            Map.entry(new TopicPartition("plain", 1), 3L));
    assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
  }

  @Test
  void readCommittedSkipsAbortedTransactionAndMarkersLeaveOffsetGaps() {
    kafka.createTopic("txn", 1);
    kafka.produceCommitted(records("txn", 0, "c1", 3)); // offsets 0-2, marker 3
    List<RecordMetadata> aborted =
        kafka.produceAborted(records("txn", 0, "ab", 2)); // 4-5, marker 6
    kafka.produceCommitted(records("txn", 0, "c2", 1)); // offset 7, marker 8

    assertThat(aborted).extracting(RecordMetadata::offset).containsExactly(4L, 5L);
    List<ConsumerRecord<String, String>> committed = kafka.consumeAll("txn", true);
    assertThat(values(committed)).containsExactly("c1-v0", "c1-v1", "c1-v2", "c2-v0");
    assertThat(committed).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L, 7L);
    assertThat(values(kafka.consumeAll("txn", false)))
        .containsExactly("c1-v0", "c1-v1", "c1-v2", "ab-v0", "ab-v1", "c2-v0");
    assertThat(kafka.endOffsets("txn"))
        .containsExactly(Map.entry(new TopicPartition("txn", 0), 9L));
  }

  @Test
  void consumerGroupOffsetsAreCommittedAndReadBack() {
    kafka.createTopic("groups", 2);
    kafka.produce(records("groups", 0, "p0", 4));
    kafka.produce(records("groups", 1, "p1", 2));
    TopicPartition p0 = new TopicPartition("groups", 0);
    TopicPartition p1 = new TopicPartition("groups", 1);

    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(kafka.consumerConfig("group-a"))) {
      consumer.subscribe(List.of("groups"));
      List<ConsumerRecord<String, String>> seen = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
                polled.forEach(seen::add);
                return seen.size() == 6;
              });
      consumer.commitSync(
          Map.of(p0, new OffsetAndMetadata(3, "meta-0"), p1, new OffsetAndMetadata(2)));
    }

    Map<TopicPartition, OffsetAndMetadata> committed = kafka.committedOffsets("group-a");
    assertThat(committed.keySet()).containsExactly(p0, p1);
    assertThat(committed.get(p0).offset()).isEqualTo(3L);
    assertThat(committed.get(p0).metadata()).isEqualTo("meta-0");
    assertThat(committed.get(p1).offset()).isEqualTo(2L);
    assertThat(kafka.committedOffsets("group-never-used")).isEmpty();
  }

  @Test
  void compactedTopicIsCreatedWithItsConfig() throws Exception {
    kafka.createTopic("compacted", 1, Map.of("cleanup.policy", "compact", "segment.ms", "100"));

    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "compacted");
    try (Admin admin = kafka.admin()) {
      Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(config.get("segment.ms").value()).isEqualTo("100");
    }
  }

  @Test
  void deleteRecordsMovesTheBeginningOffset() {
    kafka.createTopic("retention", 1);
    kafka.produce(records("retention", 0, "r", 5));
    TopicPartition tp = new TopicPartition("retention", 0);

    kafka.deleteRecordsBefore(tp, 3);

    assertThat(kafka.beginningOffsets("retention")).containsExactly(Map.entry(tp, 3L));
    assertThat(kafka.endOffsets("retention")).containsExactly(Map.entry(tp, 5L));
    assertThat(values(kafka.consumeAll("retention", false))).containsExactly("r-v3", "r-v4");
  }

  @Test
  void bytesAreProducedAsIs() {
    kafka.createTopic("poison", 1);
    byte[] notUtf8 = {(byte) 0xC3, (byte) 0x28};
    List<RecordMetadata> metadata =
        kafka.produceBytes(List.of(new ProducerRecord<>("poison", 0, null, notUtf8)));

    assertThat(metadata).extracting(RecordMetadata::offset).containsExactly(0L);
    assertThat(kafka.endOffsets("poison"))
        .containsExactly(Map.entry(new TopicPartition("poison", 0), 1L));
  }

  @Test
  void createTopicRejectsExistingTopicAndBadPartitionCount() {
    kafka.createTopic("twice", 1);
    assertThatThrownBy(() -> kafka.createTopic("twice", 1))
        .isInstanceOf(KafkaException.class)
        .hasMessageContaining("createTopic twice failed");
    assertThatThrownBy(() -> kafka.createTopic("zero", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be >= 1, was 0");
  }
}
