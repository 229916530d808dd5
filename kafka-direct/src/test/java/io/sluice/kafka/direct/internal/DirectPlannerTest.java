package io.sluice.kafka.direct.internal;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.ConsumerStrategy;
import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class DirectPlannerTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private DirectPlanner planner(
      EmbeddedKafka kafka, ConsumerStrategy<?, ?> strategy, DirectStreamOptions options) {
    return DirectPlanner.open(
        "test", strategy, options, new KafkaMetrics(registry, "test"), Duration.ofSeconds(1));
  }

  private static ConsumerStrategy<String, String> subscribe(
      EmbeddedKafka kafka, String topic, boolean readCommitted) {
    return ConsumerStrategies.subscribe(
        List.of(topic), TestSupport.params(kafka, "g-" + topic, readCommitted));
  }

  private static OffsetRange range(String topic, int p, long from, long until) {
    return new OffsetRange(topic, p, from, until);
  }

  @Test
  void startsAtEarliestAndPicksUpNewPartitionsFromTheirStart(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("plan-earliest");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "a", 5));
    kafka.produce(records(topic, 1, "b", 3));
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().startingOffsets(StartingOffsets.earliest()).build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 0, 5), range(topic, 1, 0, 3));
      try (Admin admin = kafka.admin()) {
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
      }
      kafka.produce(records(topic, 2, "c", 4));
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 5, 5), range(topic, 1, 3, 3), range(topic, 2, 0, 4));
    }
  }

  @Test
  void patternSubscriptionPicksUpATopicCreatedLater(EmbeddedKafka kafka) {
    String prefix = TestSupport.topic("plan-pattern");
    kafka.createTopic(prefix + "-one", 1);
    kafka.produce(records(prefix + "-one", 0, "a", 2));
    ConsumerStrategy<String, String> strategy =
        ConsumerStrategies.subscribePattern(
            Pattern.compile(Pattern.quote(prefix) + "-.*"),
            TestSupport.params(kafka, "g-" + prefix, false));
    try (DirectPlanner planner = planner(kafka, strategy, DirectStreamOptions.defaults())) {
      assertThat(planner.plan().ranges()).containsExactly(range(prefix + "-one", 0, 0, 2));
      kafka.createTopic(prefix + "-two", 1);
      kafka.produce(records(prefix + "-two", 0, "b", 3));
      assertThat(planner.plan().ranges())
          .containsExactly(range(prefix + "-one", 0, 2, 2), range(prefix + "-two", 0, 0, 3));
    }
  }

  @Test
  void theListingTakenAtStartServesTheFirstPlanAndEveryLaterPlanListsAgain(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("plan-start-listing");
    try (DirectPlanner planner = plannerGrownAfterItsStart(kafka, topic, Duration.ofMinutes(1))) {
      // The start (cluster check, resolution, first plan) reads one listing: no partition 1 yet.
      assertThat(planner.resolve(null)).containsOnlyKeys(new TopicPartition(topic, 0));
      assertThat(planner.plan().ranges()).containsExactly(range(topic, 0, 0, 3));
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 3, 3), range(topic, 1, 0, 2));
    }
  }

  @Test
  void theListingTakenAtStartIsNotReusedPastOneBatchInterval(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("plan-start-listing-age");
    // Adding a partition takes a broker round trip, longer than the 1 ms batch interval.
    try (DirectPlanner planner = plannerGrownAfterItsStart(kafka, topic, Duration.ofMillis(1))) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 0, 3), range(topic, 1, 0, 2));
    }
  }

  /**
   * A planner from the earliest offsets of {@code topic} (1 partition, 3 records) that has run its
   * start's cluster check, after which partition 1 is added with 2 records.
   */
  private DirectPlanner plannerGrownAfterItsStart(
      EmbeddedKafka kafka, String topic, Duration batchInterval) throws Exception {
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "a", 3));
    DirectPlanner planner =
        DirectPlanner.open(
            "test",
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().startingOffsets(StartingOffsets.earliest()).build(),
            new KafkaMetrics(registry, "test"),
            batchInterval);
    try (Admin admin = kafka.admin()) {
      planner.checkCluster();
      admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get();
    } catch (Exception | Error e) {
      planner.close();
      throw e;
    }
    kafka.produce(records(topic, 1, "b", 2));
    return planner;
  }

  @Test
  void latestIsResolvedOnceAndOnlyNewRecordsAreRead(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-latest");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "old", 7));
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().startingOffsets(StartingOffsets.latest()).build())) {
      assertThat(planner.plan().ranges()).containsExactly(range(topic, 0, 7, 7));
      kafka.produce(records(topic, 0, "new", 2));
      assertThat(planner.plan().ranges()).containsExactly(range(topic, 0, 7, 9));
    }
  }

  @Test
  void specificOffsetsWithFallbackAndTimestamp(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-specific");
    kafka.createTopic(topic, 2);
    long base = System.currentTimeMillis() - 100_000;
    List<ProducerRecord<String, String>> timed = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      timed.add(new ProducerRecord<>(topic, 0, base + i * 1000L, "k", "v" + i));
      timed.add(new ProducerRecord<>(topic, 1, base - 50_000 + i, "k", "w" + i));
    }
    kafka.produce(timed);
    TopicPartition p0 = new TopicPartition(topic, 0);
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder()
                .startingOffsets(StartingOffsets.specific(Map.of(p0, 4L), StartingOffsets.latest()))
                .build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 4, 10), range(topic, 1, 10, 10));
    }
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder()
                .startingOffsets(StartingOffsets.timestamp(Instant.ofEpochMilli(base + 5000)))
                .build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 5, 10), range(topic, 1, 10, 10));
    }
  }

  @Test
  void defaultStartIsTheCommittedOffsetOfTheStoreOrTheKafkaGroup(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("plan-committed");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "a", 6));
    kafka.produce(records(topic, 1, "b", 6));
    MemoryOffsetStore store = new MemoryOffsetStore();
    store.commit(new BatchCommit("g-" + topic, 3, Instant.now(), List.of(range(topic, 0, 0, 4))));
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().offsetStore(store).build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 4, 6), range(topic, 1, 0, 6));
    }
    try (DirectPlanner planner =
        planner(kafka, subscribe(kafka, topic, false), DirectStreamOptions.defaults())) {
      planner.driver().commit(Map.of(new TopicPartition(topic, 1), 2L), "");
    }
    try (DirectPlanner planner =
        planner(kafka, subscribe(kafka, topic, false), DirectStreamOptions.defaults())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 0, 6), range(topic, 1, 2, 6));
    }
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder()
                .startingOffsets(StartingOffsets.fromBatch(store, "g-" + topic, 3))
                .build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 0, 6), range(topic, 1, 0, 6));
    }
  }

  @Test
  void readCommittedPlansUpToTheLastStableOffset(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-lso");
    kafka.createTopic(topic, 1);
    kafka.produceCommitted(records(topic, 0, "a", 3)); // 0..2, marker 3
    Map<String, Object> pc = kafka.producerConfig();
    pc.put("transactional.id", "open-" + topic);
    try (KafkaProducer<String, String> open = new KafkaProducer<>(pc);
        DirectPlanner rc =
            planner(kafka, subscribe(kafka, topic, true), DirectStreamOptions.defaults());
        DirectPlanner ru =
            planner(kafka, subscribe(kafka, topic, false), DirectStreamOptions.defaults())) {
      open.initTransactions();
      open.beginTransaction();
      open.send(new ProducerRecord<>(topic, 0, "k", "pending"));
      open.flush();
      assertThat(rc.plan().ranges()).containsExactly(range(topic, 0, 0, 4));
      assertThat(ru.plan().ranges()).containsExactly(range(topic, 0, 0, 5));
      open.commitTransaction();
      // The coordinator writes the commit marker after commitTransaction() returns.
      TopicPartition tp = new TopicPartition(topic, 0);
      org.awaitility.Awaitility.await()
          .until(() -> rc.driver().endOffsets(List.of(tp)).get(tp) == 6L);
      assertThat(rc.plan().ranges()).containsExactly(range(topic, 0, 4, 6));
    }
  }

  @Test
  void ratesBoundEachBatch(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-rate");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "a", 300));
    kafka.produce(records(topic, 1, "b", 100));
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().maxRatePerPartition(40).build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 0, 40), range(topic, 1, 0, 40));
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 40, 80), range(topic, 1, 40, 80));
    }
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().initialRate(100).backpressure(true).build())) {
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 0, 75), range(topic, 1, 0, 25));
      planner.onRateUpdate(20);
      assertThat(planner.plan().ranges())
          .containsExactly(range(topic, 0, 75, 90), range(topic, 1, 25, 30));
    }
  }

  @Test
  void deletedOffsetsFailOrSkipToTheLogStart(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-loss");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "a", 10));
    TopicPartition tp = new TopicPartition(topic, 0);
    try (DirectPlanner fail =
            planner(
                kafka,
                subscribe(kafka, topic, false),
                DirectStreamOptions.builder().maxRatePerPartition(2).build());
        DirectPlanner skip =
            planner(
                kafka,
                subscribe(kafka, topic, false),
                DirectStreamOptions.builder()
                    .maxRatePerPartition(2)
                    .dataLossPolicy(DataLossPolicy.SKIP)
                    .build())) {
      assertThat(fail.plan().ranges()).containsExactly(range(topic, 0, 0, 2));
      assertThat(skip.plan().ranges()).containsExactly(range(topic, 0, 0, 2));
      kafka.deleteRecordsBefore(tp, 6);
      assertThatThrownBy(fail::plan)
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining(tp.toString())
          .hasMessageContaining("expected offset 2")
          .hasMessageContaining("[6, 10)");
      assertThat(skip.plan().ranges()).containsExactly(range(topic, 0, 6, 8));
      assertThat(registry.get(KafkaMetrics.DATA_LOSS_OFFSETS).counter().count()).isEqualTo(4.0);
    }
  }

  @Test
  void aVanishedPartitionFailsOrIsDropped(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("plan-gone");
    String other = TestSupport.topic("plan-stays");
    kafka.createTopic(topic, 1);
    kafka.createTopic(other, 1);
    ConsumerStrategy<String, String> both =
        ConsumerStrategies.subscribe(
            List.of(topic, other), TestSupport.params(kafka, "g-" + topic, false));
    try (DirectPlanner fail = planner(kafka, both, DirectStreamOptions.defaults());
        DirectPlanner skip =
            planner(
                kafka,
                both,
                DirectStreamOptions.builder().dataLossPolicy(DataLossPolicy.SKIP).build())) {
      fail.plan();
      skip.plan();
      try (Admin admin = kafka.admin()) {
        admin.deleteTopics(List.of(topic)).all().get();
      }
      org.awaitility.Awaitility.await().until(() -> !fail.driver().listTopics().containsKey(topic));
      assertThatThrownBy(fail::plan)
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining(topic + "-0")
          .hasMessageContaining("disappeared");
      assertThat(skip.plan().ranges()).containsExactly(range(other, 0, 0, 0));
    }
  }

  @Test
  void boundedReplayStopsAtItsEnd(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-bounded");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "a", 10));
    kafka.produce(records(topic, 1, "b", 10));
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder()
                .maxRatePerPartition(3)
                .startingOffsets(
                    StartingOffsets.bounded(List.of(range(topic, 0, 2, 6), range(topic, 1, 5, 7))))
                .build())) {
      KafkaBatchPlan first = planner.plan();
      assertThat(first.ranges()).containsExactly(range(topic, 0, 2, 5), range(topic, 1, 5, 7));
      assertThat(first.last()).isFalse();
      assertThat(planner.exhausted()).isFalse();
      KafkaBatchPlan second = planner.plan();
      assertThat(second.ranges()).containsExactly(range(topic, 0, 5, 6), range(topic, 1, 7, 7));
      assertThat(second.last()).isTrue();
      assertThat(planner.exhausted()).isTrue();
    }
  }

  @Test
  void restoreContinuesAfterTheLastPlanWithoutResolvingAgain(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("plan-restore");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "a", 10));
    try (DirectPlanner planner =
        planner(
            kafka,
            subscribe(kafka, topic, false),
            DirectStreamOptions.builder().startingOffsets(StartingOffsets.latest()).build())) {
      planner.restore(new KafkaBatchPlan("g", List.of(range(topic, 0, 1, 3)), false));
      assertThat(planner.plan().ranges()).containsExactly(range(topic, 0, 3, 10));
    }
  }
}
