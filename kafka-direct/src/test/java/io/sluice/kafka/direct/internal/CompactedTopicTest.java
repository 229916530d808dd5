package io.sluice.kafka.direct.internal;

import static io.sluice.kafka.direct.internal.TestSupport.offsets;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.offsets.OffsetRange;
import io.sluice.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Compaction needs a broker whose log cleaner wakes up quickly, so this class starts its own. */
class CompactedTopicTest {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.builder().brokerProperty("log.cleaner.backoff.ms", "100").start();
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void readsACompactedRangeByPositionAcrossItsGaps() {
    String topic = TestSupport.topic("compacted");
    kafka.createTopic(
        topic,
        1,
        Map.of(
            "cleanup.policy",
            "compact",
            "segment.ms",
            "100",
            "min.cleanable.dirty.ratio",
            "0.01",
            "min.compaction.lag.ms",
            "0",
            "delete.retention.ms",
            "0"));
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      records.add(new ProducerRecord<>(topic, 0, "k" + i, "v1-" + i)); // offsets 0..9
    }
    for (int i = 0; i < 5; i++) {
      records.add(
          new ProducerRecord<>(topic, 0, "k" + i, "v2-" + i)); // offsets 10..14 replace 0..4
    }
    kafka.produce(records);
    // Appends roll the segment once it is older than segment.ms; the cleaner then compacts it.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(150))
        .until(
            () -> {
              kafka.produce(List.of(new ProducerRecord<>(topic, 0, "roll", "x")));
              return kafka.consumeAll(topic, false).stream().noneMatch(r -> r.offset() < 5);
            });
    TopicPartition tp = new TopicPartition(topic, 0);
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.FAIL)) {
      Duration timeout = Duration.ofSeconds(5);
      var all = PartitionReaderTest.read(reader, OffsetRange.of(tp, 0, 15), timeout);
      assertThat(offsets(all)).containsExactly(5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L);
      assertThat(all)
          .extracting(r -> TestSupport.str(r.value()))
          .containsExactly(
              "v1-5", "v1-6", "v1-7", "v1-8", "v1-9", "v2-0", "v2-1", "v2-2", "v2-3", "v2-4");
      assertThat(offsets(PartitionReaderTest.read(reader, OffsetRange.of(tp, 0, 5), timeout)))
          .isEmpty();
      assertThat(offsets(PartitionReaderTest.read(reader, OffsetRange.of(tp, 3, 7), timeout)))
          .containsExactly(5L, 6L);
    }
  }
}
