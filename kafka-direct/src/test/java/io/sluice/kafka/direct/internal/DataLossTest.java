package io.sluice.kafka.direct.internal;

import static io.sluice.kafka.direct.internal.TestSupport.offsetList;
import static io.sluice.kafka.direct.internal.TestSupport.offsets;
import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Offsets before the log start and after the log end are told apart, and SKIP never re-reads a log.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class DataLossTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final TopicPartition TP = new TopicPartition("t", 0);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void theMessageTellsDeletedOffsetsFromOffsetsPastTheEndAndOnlyAdvisesSkipForDeleted() {
    DataLossException before = new DataLossException(TP, 3, 7, 10);
    assertThat(before.reason()).isEqualTo(DataLossException.Reason.BEFORE_LOG_START);
    assertThat(before)
        .hasMessage(
            "data loss on t-0: expected offset 3 next, but the log holds only offsets [7, 10):"
                + " offset 3 is before the log start 7 (retention or deleteRecords removed offsets [3, 7)); set"
                + " dataLossPolicy(SKIP) to skip to 7, or restart from a valid position");

    DataLossException after = new DataLossException(TP, 50, 0, 10);
    assertThat(after.reason()).isEqualTo(DataLossException.Reason.AFTER_LOG_END);
    assertThat(after)
        .hasMessage(
            "data loss on t-0: expected offset 50 next, but the log holds only offsets [0, 10):"
                + " offset 50 is after the log end 10 (the topic was recreated or truncated, or a reset went past the end);"
                + " check the topic, then restart from a valid position (dataLossPolicy(SKIP) would continue at the log end"
                + " 10 without reading offsets [0, 10))");
    assertThat(after.getMessage()).doesNotContain("set dataLossPolicy(SKIP)");

    assertThat(new DataLossException(TP, 5, -1, -1).reason())
        .isEqualTo(DataLossException.Reason.PARTITION_GONE);
  }

  private DirectPlanner planner(
      EmbeddedKafka kafka, String topic, DataLossPolicy policy, long start) {
    DirectStreamOptions options =
        DirectStreamOptions.builder()
            .dataLossPolicy(policy)
            .startingOffsets(StartingOffsets.specific(Map.of(new TopicPartition(topic, 0), start)))
            .build();
    return DirectPlanner.open(
        "test",
        ConsumerStrategies.subscribe(
            List.of(topic), TestSupport.params(kafka, "g-" + topic + policy, false)),
        options,
        new KafkaMetrics(registry, "test"),
        Duration.ofSeconds(1));
  }

  @Test
  void aPlanPastTheLogEndFailsUnderFailAndContinuesAtTheLogEndUnderSkip(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("loss-past-end");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    try (DirectPlanner fail = planner(kafka, topic, DataLossPolicy.FAIL, 50);
        DirectPlanner skip = planner(kafka, topic, DataLossPolicy.SKIP, 50)) {
      assertThatThrownBy(fail::plan)
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining(
              topic + "-0: expected offset 50 next, but the log holds only offsets [0, 10)")
          .hasMessageContaining("after the log end 10")
          .satisfies(
              e ->
                  assertThat(((DataLossException) e).reason())
                      .isEqualTo(DataLossException.Reason.AFTER_LOG_END));

      assertThat(skip.plan().ranges()).containsExactly(new OffsetRange(topic, 0, 10, 10));
      kafka.produce(records(topic, 0, "w", 3));
      assertThat(skip.plan().ranges()).containsExactly(new OffsetRange(topic, 0, 10, 13));
      assertThat(registry.get(KafkaMetrics.DATA_LOSS_OFFSETS).counter().count()).isZero();
    }
  }

  @Test
  void aPlanBeforeTheLogStartStillSkipsToTheLogStartAndCountsTheLoss(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("loss-before-start");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    kafka.deleteRecordsBefore(new TopicPartition(topic, 0), 6);
    try (DirectPlanner fail = planner(kafka, topic, DataLossPolicy.FAIL, 2);
        DirectPlanner skip = planner(kafka, topic, DataLossPolicy.SKIP, 2)) {
      assertThatThrownBy(fail::plan)
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining("offset 2 is before the log start 6")
          .hasMessageContaining("set dataLossPolicy(SKIP) to skip to 6");
      assertThat(skip.plan().ranges()).containsExactly(new OffsetRange(topic, 0, 6, 10));
      assertThat(registry.get(KafkaMetrics.DATA_LOSS_OFFSETS).counter().count()).isEqualTo(4.0);
    }
  }

  @Test
  void aRangePastTheLogEndFailsUnderFailAndEndsEmptyUnderSkip(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("loss-reader-past-end");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    TopicPartition tp = new TopicPartition(topic, 0);
    OffsetRange pastEnd = OffsetRange.of(tp, 20, 25);
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.FAIL)) {
      assertThatThrownBy(() -> PartitionReaderTest.read(reader, pastEnd, TIMEOUT))
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining("offset 20 is after the log end 10");
    }
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.SKIP)) {
      assertThat(PartitionReaderTest.read(reader, pastEnd, TIMEOUT)).isEmpty();
      assertThat(reader.skippedOffsets()).isZero();
      // The reader is usable after: a valid range reads exactly its records.
      assertThat(offsets(PartitionReaderTest.read(reader, OffsetRange.of(tp, 4, 8), TIMEOUT)))
          .isEqualTo(offsetList(4, 8));
    }
  }
}
