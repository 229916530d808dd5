package io.sluice.kafka.direct;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.internal.MemoryOffsetStore;
import io.sluice.kafka.direct.internal.TestSupport;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class DirectStreamTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  private static OffsetRange range(String topic, int p, long from, long until) {
    return new OffsetRange(topic, p, from, until);
  }

  private static List<String> values(String prefix, int from, int until) {
    return IntStream.range(from, until).mapToObj(i -> prefix + "-" + i).toList();
  }

  private static Map<TopicPartition, Long> committed(EmbeddedKafka kafka, String group) {
    Map<TopicPartition, Long> out = new java.util.HashMap<>();
    kafka.committedOffsets(group).forEach((tp, om) -> out.put(tp, om.offset()));
    return out;
  }

  private static Throwable rootOf(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return c;
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the cause chain", t);
  }

  @Test
  void readsSeveralTopicsWithOnePartitionStartingLaterAndCommitsToTheGroup(EmbeddedKafka kafka) {
    String a = TestSupport.topic("stream-a");
    String b = TestSupport.topic("stream-b");
    kafka.createTopic(a, 2);
    kafka.createTopic(b, 1);
    kafka.produce(records(a, 0, "a0", 5));
    kafka.produce(records(a, 1, "a1", 7));
    kafka.produce(records(b, 0, "b0", 6));
    String group = "g-" + a;
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(a, b), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder()
                  .startingOffsets(StartingOffsets.specific(Map.of(new TopicPartition(b, 0), 2L)))
                  .build()));
      h.ctx.start();
      StreamHarness.Seen first = h.runBatch();
      List<OffsetRange> expected =
          new ArrayList<>(List.of(range(a, 0, 0, 5), range(a, 1, 0, 7), range(b, 0, 2, 6)));
      expected.sort(
          java.util.Comparator.comparing(OffsetRange::topic)
              .thenComparingInt(OffsetRange::partition));
      assertThat(first.ranges()).isEqualTo(expected);
      for (OffsetRange r : first.ranges()) {
        assertThat(first.count(r.topic(), r.partition()))
            .as("records of %s", r)
            .isEqualTo(r.count());
      }
      assertThat(first.values())
          .containsExactlyInAnyOrderElementsOf(
              concat(values("a0", 0, 5), values("a1", 0, 7), values("b0", 2, 6)));
      assertThat(committed(kafka, group))
          .isEqualTo(
              Map.of(
                  new TopicPartition(a, 0),
                  5L,
                  new TopicPartition(a, 1),
                  7L,
                  new TopicPartition(b, 0),
                  6L));

      kafka.produce(records(a, 0, "more", 3));
      StreamHarness.Seen second = h.runBatch();
      assertThat(second.values()).containsExactlyElementsOf(values("more", 0, 3));
      assertThat(second.ranges()).contains(range(a, 0, 5, 8));
      assertThat(committed(kafka, group)).containsEntry(new TopicPartition(a, 0), 8L);
    }
  }

  @Test
  void aCachedStreamReadsItsRangesOncePerBatchForAllItsOutputs(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("cached");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "p0-", 6));
    kafka.produce(records(topic, 1, "p1-", 4));
    for (boolean cached : new boolean[] {false, true}) {
      try (StreamHarness h = new StreamHarness(SECOND, false)) {
        DStream<ConsumerRecord<String, String>> stream =
            KafkaDirect.createDirectStream(
                h.ctx,
                ConsumerStrategies.<String, String>subscribe(
                    List.of(topic), TestSupport.params(kafka, "g-" + topic + "-" + cached, false)));
        if (cached) {
          stream.cache();
        }
        List<Long> counts = new CopyOnWriteArrayList<>();
        stream.foreachRDD(rdd -> counts.add(rdd.count()));
        h.record(stream);
        h.ctx.start();
        StreamHarness.Seen batch = h.runBatch();

        assertThat(counts).containsExactly(10L);
        assertThat(batch.records()).hasSize(10);
        // Each task reading a range records one sample of the records it read.
        assertThat(
                h.ctx
                    .meterRegistry()
                    .find(io.sluice.kafka.direct.internal.KafkaMetrics.PARTITION_RECORDS)
                    .tag("topic", topic)
                    .summaries())
            .as(cached ? "read once" : "read once per output")
            .hasSize(2)
            .allSatisfy(
                s -> {
                  assertThat(s.count()).isEqualTo(cached ? 1 : 2);
                  assertThat(s.totalAmount()).isEqualTo(cached ? s.max() : 2 * s.max());
                });
      }
    }
  }

  @Test
  void newRunWithoutCheckpointContinuesBatchIdsAfterTheGroupsCommittedMetadata(
      EmbeddedKafka kafka) {
    String a = TestSupport.topic("ids");
    kafka.createTopic(a, 1);
    kafka.produce(records(a, 0, "x", 4));
    String group = "g-" + a;
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(a), TestSupport.params(kafka, group, false))));
      h.ctx.start();
      assertThat(h.runBatch().batchId()).isZero();
      assertThat(h.runBatch().batchId()).isEqualTo(1);
    }
    assertThat(kafka.committedOffsets(group).get(new TopicPartition(a, 0)).metadata())
        .startsWith("sluice:v1:batch=1;");

    kafka.produce(records(a, 0, "y", 2));
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(a), TestSupport.params(kafka, group, false))));
      h.ctx.start();
      StreamHarness.Seen next = h.runBatch();
      assertThat(next.batchId()).isEqualTo(2);
      assertThat(next.values()).containsExactlyElementsOf(values("y", 0, 2));
    }
  }

  @SafeVarargs
  private static List<String> concat(List<String>... lists) {
    List<String> out = new ArrayList<>();
    for (List<String> l : lists) {
      out.addAll(l);
    }
    return out;
  }

  @Test
  void patternSubscriptionReadsATopicCreatedAfterStart(EmbeddedKafka kafka) {
    String prefix = TestSupport.topic("stream-pattern");
    kafka.createTopic(prefix + "-x", 1);
    kafka.produce(records(prefix + "-x", 0, "x", 2));
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribePattern(
                  Pattern.compile(Pattern.quote(prefix) + "-.*"),
                  TestSupport.params(kafka, "g-" + prefix, false))));
      h.ctx.start();
      assertThat(h.runBatch().values()).containsExactly("x-0", "x-1");
      kafka.createTopic(prefix + "-y", 1);
      kafka.produce(records(prefix + "-y", 0, "y", 3));
      StreamHarness.Seen second = h.runBatch();
      assertThat(second.values()).containsExactly("y-0", "y-1", "y-2");
      assertThat(second.ranges())
          .containsExactly(range(prefix + "-x", 0, 2, 2), range(prefix + "-y", 0, 0, 3));
    }
  }

  @Test
  void maxRatePerPartitionCapsEachBatchToTheExactCount(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-rate");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "p", 250));
    kafka.produce(records(topic, 1, "q", 250));
    try (StreamHarness h = new StreamHarness(Duration.ofMillis(500), false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
              DirectStreamOptions.builder().maxRatePerPartition(200).build()));
      h.ctx.start();
      for (int batch = 0; batch < 3; batch++) {
        StreamHarness.Seen seen = h.runBatch();
        long from = batch * 100L;
        long until = Math.min(250, from + 100);
        assertThat(seen.ranges())
            .containsExactly(range(topic, 0, from, until), range(topic, 1, from, until));
        assertThat(seen.count(topic, 0)).isEqualTo(until - from);
        assertThat(seen.count(topic, 1)).isEqualTo(until - from);
      }
      assertThat(h.runBatch().records()).isEmpty();
    }
  }

  @Test
  void initialRateBoundsTheFirstBatchInsteadOfReadingTheWholeBacklog(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-initial");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "p", 90));
    kafka.produce(records(topic, 1, "q", 30));
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
              DirectStreamOptions.builder().initialRate(60).build()));
      h.ctx.start();
      StreamHarness.Seen first = h.runBatch();
      assertThat(first.ranges()).containsExactly(range(topic, 0, 0, 45), range(topic, 1, 0, 15));
      assertThat(first.records()).hasSize(60);
    }
  }

  @Test
  void backpressureLowersTheRateWhenProcessingSlows(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-backpressure");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 12_000));
    List<Long> planned = new CopyOnWriteArrayList<>();
    StreamHarness h = new StreamHarness(SECOND, true);
    try (h) {
      DStream<ConsumerRecord<String, String>> stream =
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
              DirectStreamOptions.builder().initialRate(1000).build());
      stream.foreachBatch(
          (rdd, batch) -> {
            planned.add(rdd.count());
            // Processing takes twice the batch interval: the estimator must lower the rate.
            h.clock.advance(Duration.ofSeconds(2));
          });
      h.ctx.start();
      h.clock.advance(SECOND);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> planned.stream().anyMatch(n -> n < 1000) || h.failure.get() != null);
    }
    assertThat(h.failure.get()).isNull();
    assertThat(planned.get(0)).isEqualTo(1000L);
    assertThat(planned.get(planned.size() - 1)).isBetween(100L, 500L);
  }

  @Test
  void minPartitionsReadsOnePartitionsBacklogInPiecesAndCommitsOneRangePerPartition(
      EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-pieces");
    kafka.createTopic(topic, 2);
    kafka.produce(records(topic, 0, "p", 1000));
    kafka.produce(records(topic, 1, "q", 10));
    String group = "g-" + topic;
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder().maxRatePerPartition(500).minPartitions(4).build()));
      h.ctx.start();

      // 510 offsets, 2 non-empty ranges < 4: partition 0 in ceil(500 * 4 / 510) = 4 pieces,
      // partition 1 in ceil(10 * 4 / 510) = 1
      StreamHarness.Seen first = h.runBatch();
      assertThat(first.ranges())
          .containsExactly(
              range(topic, 0, 0, 125),
              range(topic, 0, 125, 250),
              range(topic, 0, 250, 375),
              range(topic, 0, 375, 500),
              range(topic, 1, 0, 10));
      List<String> expected = new ArrayList<>(values("p", 0, 500));
      expected.addAll(values("q", 0, 10));
      assertThat(first.values()).containsExactlyElementsOf(expected);
      assertThat(committed(kafka, group))
          .containsEntry(new TopicPartition(topic, 0), 500L)
          .containsEntry(new TopicPartition(topic, 1), 10L);

      // the rest of partition 0 alone, again in 4 pieces; partition 1's empty range stays one
      StreamHarness.Seen second = h.runBatch();
      assertThat(second.ranges())
          .containsExactly(
              range(topic, 0, 500, 625),
              range(topic, 0, 625, 750),
              range(topic, 0, 750, 875),
              range(topic, 0, 875, 1000),
              range(topic, 1, 10, 10));
      assertThat(second.values()).containsExactlyElementsOf(values("p", 500, 1000));
      assertThat(committed(kafka, group))
          .containsEntry(new TopicPartition(topic, 0), 1000L)
          .containsEntry(new TopicPartition(topic, 1), 10L);
      assertThat(h.runBatch().records()).isEmpty();
    }
  }

  @Test
  void aRetriedPieceReReadsExactlyItsPieceAndTheNextBatchContinues(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-piece-retry");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    List<List<String>> reads = new CopyOnWriteArrayList<>();
    AtomicBoolean injected = new AtomicBoolean();
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      KafkaDirect.<String, String>createDirectStream(
              h.ctx,
              ConsumerStrategies.subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
              DirectStreamOptions.builder().minPartitions(2).build())
          .foreachBatch(
              (rdd, batch) -> {
                rdd.runJob(
                    (it, tc) -> {
                      List<String> read = new ArrayList<>();
                      while (it.hasNext()) {
                        read.add(it.next().value());
                        if (tc.partition() == 1
                            && read.size() == 2
                            && injected.compareAndSet(false, true)) {
                          reads.add(List.copyOf(read));
                          throw new IllegalStateException("injected failure after 2 records");
                        }
                      }
                      reads.add(read);
                      return read.size();
                    });
                h.seen.add(
                    new StreamHarness.Seen(
                        batch.id(), ((HasOffsetRanges) rdd).offsetRanges(), List.of()));
              });
      h.ctx.start();
      StreamHarness.Seen seen = h.runBatch();
      assertThat(seen.ranges()).containsExactly(range(topic, 0, 0, 5), range(topic, 0, 5, 10));
      assertThat(reads)
          .containsExactlyInAnyOrder(values("v", 0, 5), values("v", 5, 7), values("v", 5, 10));
      assertThat(reads.indexOf(values("v", 5, 7))).isLessThan(reads.indexOf(values("v", 5, 10)));

      reads.clear();
      kafka.produce(records(topic, 0, "w", 4));
      seen = h.runBatch();
      assertThat(seen.ranges()).containsExactly(range(topic, 0, 10, 12), range(topic, 0, 12, 14));
      assertThat(reads).containsExactlyInAnyOrder(values("w", 0, 2), values("w", 2, 4));
    }
  }

  @Test
  void aRetriedTaskReReadsExactlyTheSameRange(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-retry");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    List<List<String>> attempts = new CopyOnWriteArrayList<>();
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      KafkaDirect.<String, String>createDirectStream(
              h.ctx,
              ConsumerStrategies.subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)))
          .foreachBatch(
              (rdd, batch) -> {
                rdd.runJob(
                    (it, tc) -> {
                      List<String> read = new ArrayList<>();
                      while (it.hasNext()) {
                        read.add(it.next().value());
                        if (tc.attemptNumber() == 0 && read.size() == 4) {
                          attempts.add(List.copyOf(read));
                          throw new IllegalStateException("injected failure after 4 records");
                        }
                      }
                      attempts.add(read);
                      return read.size();
                    });
                h.seen.add(
                    new StreamHarness.Seen(
                        batch.id(), ((HasOffsetRanges) rdd).offsetRanges(), List.of()));
              });
      h.ctx.start();
      StreamHarness.Seen seen = h.runBatch();
      assertThat(seen.ranges()).containsExactly(range(topic, 0, 0, 10));
      assertThat(attempts).containsExactly(values("v", 0, 4), values("v", 0, 10));
    }
  }

  @Test
  void boundedReplayStopsTheContextByItselfAtItsEnd(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("stream-bounded");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 20));
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
              DirectStreamOptions.builder()
                  .maxRatePerPartition(4)
                  .startingOffsets(StartingOffsets.bounded(List.of(range(topic, 0, 2, 8))))
                  .build()));
      h.ctx.start();
      assertThat(h.runBatch().values()).isEqualTo(values("v", 2, 6));
      assertThat(h.runBatch().values()).isEqualTo(values("v", 6, 8));
      assertThat(h.ctx.awaitTermination(Duration.ofSeconds(20))).isTrue();
      assertThat(h.seen).hasSize(2);
    }
  }

  @Test
  void commitsToTheOffsetStoreAndAppliesCommitAsyncAfterTheOutputs(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-store");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 5));
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    TopicPartition tp = new TopicPartition(topic, 0);
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      DStream<ConsumerRecord<String, String>> stream =
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder().offsetStore(store).build());
      h.record(stream);
      stream.foreachBatch(
          (rdd, batch) -> {
            List<OffsetRange> ranges = ((HasOffsetRanges) rdd).offsetRanges();
            ((CanCommitOffsets) stream).commitAsync(ranges);
            assertThat(committed(kafka, group))
                .doesNotContainEntry(tp, ranges.get(0).untilOffset());
          });
      h.ctx.start();
      h.runBatch();
      assertThat(store.committed(group)).isEqualTo(Map.of(tp, 5L));
      assertThat(store.lastBatchId(group)).hasValue(0);
      assertThat(committed(kafka, group)).isEqualTo(Map.of(tp, 5L));
      kafka.produce(records(topic, 0, "w", 2));
      h.runBatch();
      assertThat(store.committed(group)).isEqualTo(Map.of(tp, 7L));
      assertThat(store.lastBatchId(group)).hasValue(1);
      assertThat(committed(kafka, group)).isEqualTo(Map.of(tp, 7L));
    }
  }

  @Test
  void readCommittedStreamSkipsAbortedRecordsAndFinishesOnATrailingMarker(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-txn");
    kafka.createTopic(topic, 1);
    kafka.produceCommitted(records(topic, 0, "a", 3));
    kafka.produceAborted(records(topic, 0, "x", 2));
    kafka.produceCommitted(records(topic, 0, "b", 2));
    // Transaction markers are written after the commit or abort returns.
    await().until(() -> kafka.endOffsets(topic).get(new TopicPartition(topic, 0)) == 10L);
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, true)),
              DirectStreamOptions.builder().pollTimeout(Duration.ofSeconds(3)).build()));
      h.ctx.start();
      StreamHarness.Seen seen = h.runBatch();
      assertThat(seen.ranges()).containsExactly(range(topic, 0, 0, 10));
      assertThat(seen.values()).containsExactly("a-0", "a-1", "a-2", "b-0", "b-1");
    }
  }

  @Test
  void aPoisonPillFailsTheBatchNamingTopicPartitionAndOffset(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-poison");
    kafka.createTopic(topic, 1);
    kafka.produceBytes(
        List.of(
            new ProducerRecord<>(topic, 0, null, ByteBuffer.allocate(4).putInt(7).array()),
            new ProducerRecord<>(topic, 0, null, new byte[] {1})));
    Map<String, Object> params = TestSupport.params(kafka, "g-" + topic, false);
    params.put("value.deserializer", IntegerDeserializer.class);
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      KafkaDirect.<String, Integer>createDirectStream(
              h.ctx, ConsumerStrategies.subscribe(List.of(topic), params))
          .foreachBatch((rdd, batch) -> rdd.collect());
      h.ctx.start();
      Throwable failure = h.failBatch();
      assertThat(rootOf(failure, BadRecordException.class))
          .hasMessageContaining(topic + "-0 offset 1");
      assertThat(kafka.committedOffsets("g-" + topic)).isEmpty();
    }
  }

  @Test
  void deletedOffsetsFailTheBatchUnderTheDefaultPolicy(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("stream-loss");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
              DirectStreamOptions.builder().maxRatePerPartition(3).build()));
      h.ctx.start();
      assertThat(h.runBatch().values()).isEqualTo(values("v", 0, 3));
      kafka.deleteRecordsBefore(new TopicPartition(topic, 0), 7);
      Throwable failure = h.failBatch();
      assertThat(rootOf(failure, DataLossException.class))
          .hasMessageContaining(
              topic + "-0: expected offset 3 next, but the log holds only offsets [7, 10)");
    }
  }
}
