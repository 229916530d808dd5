package io.sluice.kafka.direct;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.engine.TerminalException;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.internal.DeadLetterSender;
import io.sluice.kafka.direct.internal.MemoryOffsetStore;
import io.sluice.kafka.direct.internal.MissingTopics;
import io.sluice.kafka.direct.internal.TestSupport;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** Misconfigurations and outages fail fast, with a message naming what is wrong. */
@ExtendWith(EmbeddedKafkaExtension.class)
class StreamFailuresTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private static Throwable causeOf(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return c;
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the cause chain", t);
  }

  /**
   * Parameters whose value deserializer rejects the one-byte values of {@link #produceBadRecords}.
   */
  private static Map<String, Object> intParams(EmbeddedKafka kafka, String group) {
    Map<String, Object> params = TestSupport.params(kafka, group, false);
    params.put("value.deserializer", IntegerDeserializer.class);
    return params;
  }

  private static void produceBadRecords(EmbeddedKafka kafka, String topic, int count) {
    for (int i = 0; i < count; i++) {
      kafka.produceBytes(List.of(new ProducerRecord<>(topic, 0, null, new byte[] {(byte) i})));
    }
  }

  @Test
  void theSkipPolicyLeavesBadRecordsOutCountsThemAndCommitsPastThem(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("skip-stream");
    kafka.createTopic(topic, 2);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // Every fifth value is one byte (not an int): offsets 0, 5 of partition 0; 0, 5 of 1.
      byte[] value =
          i % 5 == 0 ? new byte[] {(byte) i} : java.nio.ByteBuffer.allocate(4).putInt(i).array();
      records.add(new ProducerRecord<>(topic, i / 10, null, value));
    }
    kafka.produceBytes(records);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    List<Integer> values = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (StreamHarness h = new StreamHarness(Duration.ofSeconds(1), false)) {
      KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, Integer>subscribe(
                  List.of(topic), intParams(kafka, group)),
              DirectStreamOptions.builder()
                  .offsetStore(store)
                  .onBadRecord(ErrorPolicy.skip())
                  .build())
          .foreachBatch((rdd, batch) -> rdd.collect().forEach(r -> values.add(r.value())));
      h.ctx.start();
      h.clock.advance(h.interval);
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> h.completed.get() == 1 || h.failure.get() != null);
      assertThat(h.failure.get()).isNull();
      assertThat(
              h.ctx
                  .meterRegistry()
                  .get(io.sluice.kafka.direct.internal.KafkaMetrics.BAD_RECORDS)
                  .tag("policy", "skip")
                  .counter()
                  .count())
          .isEqualTo(4.0);
    }
    assertThat(values)
        .containsExactlyInAnyOrder(1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 19);
    assertThat(store.committed(group))
        .containsEntry(new org.apache.kafka.common.TopicPartition(topic, 0), 10L)
        .containsEntry(new org.apache.kafka.common.TopicPartition(topic, 1), 10L);
  }

  @Test
  void deadLettersAreAtLeastOnceAndCarryTheirSourcePositionAndBatchForDedupe(
      EmbeddedKafka kafka, @org.junit.jupiter.api.io.TempDir java.nio.file.Path checkpoint) {
    String topic = TestSupport.topic("dlq-replay");
    String dlq = topic + "-dlq";
    kafka.createTopic(topic, 1);
    kafka.createTopic(dlq, 1);
    produceBadRecords(kafka, topic, 2);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    java.util.concurrent.atomic.AtomicBoolean failOnce =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    for (int run = 1; run <= 2; run++) {
      StreamHarness h =
          new StreamHarness(
              Duration.ofSeconds(1),
              false,
              checkpoint,
              new io.sluice.engine.ManualClock(java.time.Instant.ofEpochSecond(1_000L * run)));
      try (h) {
        var stream =
            KafkaDirect.createDirectStream(
                h.ctx,
                ConsumerStrategies.<String, Integer>subscribe(
                    List.of(topic), intParams(kafka, group)),
                DirectStreamOptions.builder()
                    .offsetStore(store)
                    .onBadRecord(ErrorPolicy.deadLetter(dlq))
                    .build());
        stream.foreachBatch(
            (rdd, batch) -> {
              rdd.count();
              if (failOnce.getAndSet(false)) {
                throw new IllegalStateException("output down once");
              }
            });
        h.ctx.start();
        if (run == 1) {
          h.failBatch();
        } else {
          org.awaitility.Awaitility.await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> h.completed.get() == 1);
        }
      }
    }
    // The failed batch 0 dead-lettered both records, its replay did again: at-least-once, each
    // letter naming its
    // source position and batch, so a reader keeps one per position.
    var letters = kafka.consumeAll(dlq, false);
    assertThat(letters).hasSize(4);
    assertThat(letters)
        .extracting(
            r -> header(r, DeadLetterSender.H_OFFSET) + "@" + header(r, DeadLetterSender.H_BATCH))
        .containsExactlyInAnyOrder("0@0", "1@0", "0@0", "1@0");
    assertThat(store.committed(group))
        .containsEntry(new org.apache.kafka.common.TopicPartition(topic, 0), 2L);
  }

  private static String header(
      org.apache.kafka.clients.consumer.ConsumerRecord<?, ?> r, String key) {
    var h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void offsetsPendingInAnotherWritersTransactionFailStartNamingTheGroupAndAStartAfterItsAbortReads(
      EmbeddedKafka kafka) {
    // nothing committed before: the group read finds no offset, the driver's read of where the
    // partition starts waits for the pending one
    String group =
        startWithPendingOffsets(
            kafka,
            "fail-pending-offsets",
            -1,
            (topic, g) ->
                List.of(
                    "the committed offsets of group '" + g + "' for [" + topic + "-0]",
                    "could not be read within 1000 ms",
                    "another writer's open transaction"));
    assertThat(kafka.committedOffsets(group).values().iterator().next().offset()).isEqualTo(10);
  }

  @Test
  void offsetsPendingOverACommittedOffsetFailTheGroupReadStartedWithTheContext(
      EmbeddedKafka kafka) {
    // committed 2 before: the group read started on its own thread when start() began sees 2 and
    // the pending 4, and fails start() after the cluster check passed
    String group =
        startWithPendingOffsets(
            kafka,
            "fail-pending-over-committed",
            2,
            (topic, g) ->
                List.of(
                    "the committed offsets of group '" + g + "' for [" + topic + "-0]",
                    "stayed pending in a transaction for 1000 ms",
                    "bootstrap.servers=" + kafka.bootstrapServers()));
    assertThat(kafka.committedOffsets(group).values().iterator().next().offset()).isEqualTo(10);
  }

  /**
   * Commits {@code committedBefore} (unless negative), leaves offset 4 pending in another writer's
   * open transaction, expects start() to fail with every message part, aborts the transaction and
   * expects a new context to read the 10 records from the committed offset on. Returns the group.
   */
  private static String startWithPendingOffsets(
      EmbeddedKafka kafka,
      String name,
      long committedBefore,
      java.util.function.BiFunction<String, String, List<String>> messageParts) {
    String topic = TestSupport.topic(name);
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    String group = "g-" + topic;
    TopicPartition tp = new TopicPartition(topic, 0);
    if (committedBefore >= 0) {
      try (KafkaConsumer<String, String> c =
          new KafkaConsumer<>(TestSupport.params(kafka, group, false))) {
        c.commitSync(Map.of(tp, new OffsetAndMetadata(committedBefore)));
      }
    }
    Map<String, Object> producerConfig = new java.util.HashMap<>();
    producerConfig.put("bootstrap.servers", kafka.bootstrapServers());
    producerConfig.put("transactional.id", topic + "-foreign-writer");
    producerConfig.put("key.serializer", StringSerializer.class);
    producerConfig.put("value.serializer", StringSerializer.class);
    try (KafkaProducer<String, String> writer = new KafkaProducer<>(producerConfig)) {
      writer.initTransactions();
      writer.beginTransaction();
      writer.sendOffsetsToTransaction(
          Map.of(tp, new OffsetAndMetadata(4)), new ConsumerGroupMetadata(group));
      try (StreamHarness h = new StreamHarness(SECOND, false)) {
        h.record(
            KafkaDirect.createDirectStream(
                h.ctx,
                ConsumerStrategies.<String, String>subscribe(
                    List.of(topic), TestSupport.params(kafka, group, false)),
                DirectStreamOptions.builder().pollTimeout(SECOND).build()));
        org.assertj.core.api.AbstractThrowableAssert<?, ? extends Throwable> failed =
            assertThatThrownBy(h.ctx::start);
        for (String part : messageParts.apply(topic, group)) {
          failed.hasMessageContaining(part);
        }
        assertThat(h.seen).isEmpty();
      }
      writer.abortTransaction();
    }
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder().pollTimeout(SECOND).build()));
      h.ctx.start();
      int from = (int) Math.max(0, committedBefore);
      assertThat(h.runBatch().values())
          .containsExactlyElementsOf(
              java.util.stream.IntStream.range(from, 10).mapToObj(i -> "v-" + i).toList());
    }
    return group;
  }

  @Test
  void aMissingDeadLetterTopicFailsStartWithinFiveSecondsNamingIt(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("fail-dlq-missing");
    kafka.createTopic(topic, 1);
    String dlq = topic + "-dlq";
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      KafkaDirect.<String, Integer>createDirectStream(
              h.ctx,
              ConsumerStrategies.subscribe(List.of(topic), intParams(kafka, "g-" + topic)),
              DirectStreamOptions.builder().onBadRecord(ErrorPolicy.deadLetter(dlq)).build())
          .foreachBatch((rdd, batch) -> rdd.count());
      long started = System.nanoTime();
      assertThatThrownBy(h.ctx::start)
          .isInstanceOf(StreamStartException.class)
          .hasMessageContaining("dead-letter topic '" + dlq + "' does not exist")
          .hasMessageContaining(kafka.bootstrapServers())
          .satisfies(e -> assertThat(((StreamStartException) e).retriable()).isFalse());
      long elapsed = millisSince(started);
      System.out.printf(
          "MEASURED missing dead-letter topic: start() failed after %d ms%n", elapsed);
      assertThat(elapsed).isLessThan(5_000);
    }
  }

  @Test
  void aMissingDeadLetterTopicPassesStartWhenTheClusterCreatesTopicsOnFirstUse() {
    try (EmbeddedKafka autoCreating =
        EmbeddedKafka.builder().brokerProperty("auto.create.topics.enable", "true").start()) {
      String topic = TestSupport.topic("fail-dlq-auto");
      autoCreating.createTopic(topic, 1);
      produceBadRecords(autoCreating, topic, 1);
      try (StreamHarness h = new StreamHarness(SECOND, false)) {
        KafkaDirect.<String, Integer>createDirectStream(
                h.ctx,
                ConsumerStrategies.subscribe(List.of(topic), intParams(autoCreating, "g-" + topic)),
                DirectStreamOptions.builder()
                    .onBadRecord(ErrorPolicy.deadLetter(topic + "-dlq"))
                    .build())
            .foreachBatch(
                (rdd, batch) -> {
                  assertThat(rdd.count()).isZero();
                  h.seen.add(new StreamHarness.Seen(batch.id(), List.of(), List.of()));
                });
        h.ctx.start();
        h.runBatch();
        // The auto-created topic's metadata reaches the testkit's Admin a moment after the
        // producer's write.
        await()
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    assertThat(autoCreating.endOffsets(topic + "-dlq").values())
                        .containsExactly(1L));
      }
    }
  }

  @Test
  void aDeadLetterTopicDeletedAfterStartFailsTheBatchAfterOneBoundedSend(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("fail-dlq-deleted");
    String dlq = topic + "-dlq";
    kafka.createTopic(topic, 1);
    kafka.createTopic(dlq, 1);
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      KafkaDirect.<String, Integer>createDirectStream(
              h.ctx,
              ConsumerStrategies.subscribe(List.of(topic), intParams(kafka, "g-" + topic)),
              DirectStreamOptions.builder().onBadRecord(ErrorPolicy.deadLetter(dlq)).build())
          .foreachBatch((rdd, batch) -> rdd.count());
      h.ctx.start();
      try (Admin admin = kafka.admin()) {
        admin.deleteTopics(List.of(dlq)).all().get();
        await().until(() -> isGone(admin, dlq));
      }
      produceBadRecords(kafka, topic, 2);
      long started = System.nanoTime();
      Throwable failure = h.failBatch();
      long elapsed = millisSince(started);
      System.out.printf(
          "MEASURED dead-letter topic deleted after start: batch with 2 bad records failed after %d ms%n",
          elapsed);
      assertThat(causeOf(failure, TerminalException.class))
          .hasMessageContaining("dead-letter topic '" + dlq + "' does not exist");
      // One send waits max.block.ms (5 s), then the task fails without retries.
      assertThat(elapsed).isLessThan(10_000);
    }
  }

  private static boolean isGone(Admin admin, String topic) throws InterruptedException {
    try {
      admin.describeTopics(List.of(topic)).allTopicNames().get();
      return false;
    } catch (ExecutionException e) {
      return e.getCause() instanceof UnknownTopicOrPartitionException;
    }
  }

  @Test
  void anUnreachableClusterFailsStartWithinThePollTimeoutNamingServersAndGroup()
      throws IOException {
    String servers = "127.0.0.1:" + closedPort();
    Map<String, Object> params =
        Map.of(
            "bootstrap.servers",
            servers,
            "group.id",
            "g-unreachable",
            "key.deserializer",
            "org.apache.kafka.common.serialization.StringDeserializer",
            "value.deserializer",
            "org.apache.kafka.common.serialization.StringDeserializer");
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(List.of("orders"), params),
              DirectStreamOptions.builder().pollTimeout(Duration.ofSeconds(3)).build()));
      long started = System.nanoTime();
      assertThatThrownBy(h.ctx::start)
          .isInstanceOf(StreamStartException.class)
          .hasMessageContaining("bootstrap.servers=" + servers)
          .hasMessageContaining("group 'g-unreachable'")
          .hasMessageContaining("within 3000 ms")
          .satisfies(e -> assertThat(((StreamStartException) e).retriable()).isTrue());
      long elapsed = millisSince(started);
      System.out.printf(
          "MEASURED unreachable cluster, pollTimeout 3 s: start() failed after %d ms%n", elapsed);
      assertThat(elapsed).isBetween(3_000L, 5_000L);
    }
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void aMissingSubscribedTopicIsWarnedAtStartAndNotAgainWithinAMinute(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("fail-topic-present");
    String missing = TestSupport.topic("fail-topic-missing");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 3));
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(MissingTopics.class);
    appender.start();
    logger.addAppender(appender);
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic, missing), TestSupport.params(kafka, "g-" + topic, false))));
      h.ctx.start();
      assertThat(warningsNaming(appender, missing)).hasSize(1);
      assertThat(warningsNaming(appender, missing).get(0)).contains("topic(s) [" + missing + "]");
      assertThat(h.runBatch().records()).hasSize(3);
      assertThat(h.runBatch().records()).isEmpty();
      assertThat(warningsNaming(appender, missing)).hasSize(1);
    } finally {
      logger.detachAppender(appender);
    }
  }

  private static List<String> warningsNaming(ListAppender<ILoggingEvent> appender, String topic) {
    return appender.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains(topic))
        .toList();
  }

  @Test
  void aRecreatedTopicFailsTheBatchAsOffsetsPastTheLogEndWithoutAdvisingSkip(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("fail-recreated");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    try (StreamHarness h = new StreamHarness(SECOND, false)) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, "g-" + topic, false))));
      h.ctx.start();
      assertThat(h.runBatch().records()).hasSize(10);
      try (Admin admin = kafka.admin()) {
        admin.deleteTopics(List.of(topic)).all().get();
        await().until(() -> isGone(admin, topic));
      }
      kafka.createTopic(topic, 1);
      kafka.produce(records(topic, 0, "new", 2));
      Throwable failure = h.failBatch();
      DataLossException loss = (DataLossException) causeOf(failure, DataLossException.class);
      assertThat(loss.reason()).isEqualTo(DataLossException.Reason.AFTER_LOG_END);
      assertThat(loss)
          .hasMessageContaining("expected offset 10 next, but the log holds only offsets [0, 2)")
          .hasMessageContaining("the topic was recreated or truncated");
      assertThat(loss.getMessage()).doesNotContain("set dataLossPolicy(SKIP)");
    }
  }

  @Test
  void stopWhileTheBrokerIsDownReturnsWithinTenSeconds(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("fail-stop");
    String dlq = topic + "-dlq";
    kafka.createTopic(topic, 1);
    kafka.createTopic(dlq, 1);
    produceBadRecords(kafka, topic, 1);
    StreamHarness h = new StreamHarness(SECOND, false);
    try {
      DStream<ConsumerRecord<String, Integer>> stream =
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.subscribe(List.of(topic), intParams(kafka, "g-" + topic)),
              DirectStreamOptions.builder()
                  .onBadRecord(ErrorPolicy.deadLetter(dlq))
                  .pollTimeout(Duration.ofSeconds(3))
                  .build());
      stream.foreachBatch(
          (rdd, batch) ->
              h.seen.add(
                  new StreamHarness.Seen(
                      batch.id(), ((HasOffsetRanges) rdd).offsetRanges(), List.of())));
      stream.foreachBatch((rdd, batch) -> rdd.count());
      h.ctx.start();
      StreamHarness.Seen first = h.runBatch();
      assertThat(kafka.endOffsets(dlq).values()).containsExactly(1L);
      // Offsets queued for the next batch's commit, then a batch whose planning meets the dead
      // broker.
      ((CanCommitOffsets) stream).commitAsync(first.ranges());
      kafka.stop();
      h.clock.advance(SECOND);
      long started = System.nanoTime();
      h.ctx.stop(false);
      long elapsed = millisSince(started);
      System.out.printf(
          "MEASURED stop() with the broker down (plan in flight, queued commitAsync, dead-letter"
              + " producer open), pollTimeout 3 s: %d ms%n",
          elapsed);
      assertThat(elapsed).isLessThan(10_000);
    } finally {
      h.ctx.stop(false);
      kafka.start();
    }
  }
}
