package io.sluice.sinks;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.engine.Batch;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import io.sluice.offsets.DeadLetterTransaction;
import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class KafkaSinkTest {

  private static final AtomicInteger NEXT = new AtomicInteger();

  private final EmbeddedKafka kafka;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private String app;
  private String out;
  private String group;
  private StreamingContext ctx;

  KafkaSinkTest(EmbeddedKafka kafka) {
    this.kafka = kafka;
  }

  @BeforeEach
  void setUp() {
    int n = NEXT.incrementAndGet();
    app = "kafka-sink-test-" + n + "-" + System.nanoTime();
    out = "out-" + app;
    group = "group-" + app;
    kafka.createTopic(out, 2);
    // The group coordinator refuses offsets of topics that do not exist.
    kafka.createTopic("in-" + app, 2);
    ctx = context(app);
  }

  private StreamingContext context(String appName) {
    return StreamingContext.builder()
        .appName(appName)
        .batchInterval(Duration.ofMillis(500))
        .parallelism(2)
        .meterRegistry(registry)
        .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      c.close();
    }
    ctx.stop(false);
  }

  private KafkaSink.Builder<String> builder() {
    return KafkaSink.<String>builder()
        .producerConfig(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
        .keySerializer(new StringSerializer())
        .valueSerializer(new StringSerializer())
        .record(v -> new ProducerRecord<>(out, v, v));
  }

  private TransactionalKafkaSink<String> openSink(
      KafkaSink.ExactlyOnceBuilder<String> b, StreamingContext c) {
    TransactionalKafkaSink<String> sink = b.build();
    sink.open(c);
    toClose.add(sink::close);
    return sink;
  }

  private RDD<String> values(String prefix, int n) {
    List<String> v = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      v.add(prefix + i);
    }
    return ctx.parallelize(v, 3);
  }

  private List<String> committedValues() {
    return kafka.consumeAll(out, true).stream().map(ConsumerRecord::value).sorted().toList();
  }

  /**
   * The read_committed values once at least {@code expected} are visible: commitTransaction returns
   * when the commit is decided, and the markers that make the records readable follow within
   * milliseconds.
   */
  private List<String> committedValues(int expected) {
    await().atMost(Duration.ofSeconds(20)).until(() -> committedValues().size() >= expected);
    return committedValues();
  }

  @Test
  void commitsOutputAndOffsetsWithBatchMetadataInOneTransaction() throws Exception {
    TransactionalKafkaSink<String> sink = openSink(builder().exactlyOnce(), ctx);
    Batch batch = TestOffsets.batch(0, group, "in-" + app);

    sink.write(values("a", 20), batch);

    assertThat(committedValues(20)).hasSize(20).doesNotHaveDuplicates();
    await().atMost(Duration.ofSeconds(20)).until(() -> kafka.committedOffsets(group).size() == 2);
    Map<TopicPartition, OffsetAndMetadata> offsets = kafka.committedOffsets(group);
    assertThat(offsets).hasSize(2);
    assertThat(offsets.get(new TopicPartition("in-" + app, 0)).offset()).isEqualTo(10);
    assertThat(offsets.get(new TopicPartition("in-" + app, 1)).offset()).isEqualTo(5);
    assertThat(offsets.values())
        .allSatisfy(
            om -> {
              assertThat(om.metadata()).isEqualTo(KafkaCommitMetadata.encode(0, batch.time()));
              assertThat(KafkaCommitMetadata.batchId(om.metadata())).hasValue(0);
            });
    assertThat(sink.transactionalId()).isEqualTo(app + "-kafka");
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    assertThat(registry.get("sluice.sink.records").tag("app", app).counter().count())
        .isEqualTo(20.0);
  }

  @Test
  void outputIsInvisibleToReadCommittedUntilTheBatchCommits() throws Exception {
    TransactionalKafkaSink<String> sink = openSink(builder().exactlyOnce(), ctx);
    CountDownLatch release = new CountDownLatch(1);
    RDD<String> gated =
        values("g", 10)
            .mapPartitionsWithIndex(
                (p, it) -> {
                  if (p == 2) {
                    release.await(30, TimeUnit.SECONDS);
                  }
                  return it;
                });

    CompletableFuture<Void> write =
        CompletableFuture.runAsync(
            () -> {
              try {
                sink.write(gated, TestOffsets.batch(0, group, "in-" + app));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    // Partitions 0 and 1 are sent into the open transaction while partition 2 waits.
    await().atMost(Duration.ofSeconds(20)).until(() -> kafka.consumeAll(out, false).size() >= 6);
    assertThat(committedValues()).isEmpty();
    assertThat(kafka.committedOffsets(group)).isEmpty();

    release.countDown();
    write.get(30, TimeUnit.SECONDS);
    assertThat(committedValues(10)).hasSize(10);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(kafka.committedOffsets(group)).hasSize(2));
  }

  @Test
  void aBatchTheGroupAlreadyCoversIsAbortedByTheOffsetFenceAfterARestart() throws Exception {
    TransactionalKafkaSink<String> first = openSink(builder().exactlyOnce(), ctx);
    first.write(values("a", 12), TestOffsets.batch(0, group, "in-" + app));
    first.write(values("b", 12), TestOffsets.batch(1, group, "in-" + app));
    first.close();

    // The restarted application (same app and sink names) replays batch 1, then goes on with batch
    // 2.
    StreamingContext restarted = context(app);
    TransactionalKafkaSink<String> second = openSink(builder().exactlyOnce(), restarted);
    assertThatThrownBy(
            () -> second.write(values("b", 12), TestOffsets.batch(1, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 1 aborted (no records, no offsets)")
        .hasMessageContaining(
            "partition in-"
                + app
                + "-0: the batch's range starts at offset 10 but the"
                + " committed next offset is 20");
    second.write(values("c", 12), TestOffsets.batch(2, group, "in-" + app));
    restarted.stop(false);

    List<String> values = committedValues(36);
    assertThat(values).hasSize(36).doesNotHaveDuplicates();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(kafka.committedOffsets(group).values())
                    .hasSize(2)
                    .allSatisfy(
                        om -> assertThat(KafkaCommitMetadata.batchId(om.metadata())).hasValue(2)));
  }

  @Test
  void deadLettersHandedToTheSinkCommitWithTheirBatchAndAbortWithIt() throws Exception {
    String dlq = "dlq-" + app;
    kafka.createTopic(dlq, 1);
    TransactionalKafkaSink<String> sink = openSink(builder().exactlyOnce(), ctx);
    DeadLetterTransaction transaction = (DeadLetterTransaction) sink;
    assertThat(
            transaction.acceptsDeadLettersFor(
                KafkaGroupOffsets.clusterKey(kafka.bootstrapServers())))
        .isTrue();
    assertThat(transaction.acceptsDeadLettersFor(KafkaGroupOffsets.clusterKey("elsewhere:9092")))
        .isFalse();
    List<Long> taken = new ArrayList<>();
    transaction.addDeadLetterSource(
        batchId -> {
          taken.add(batchId);
          // Raw bytes: the sink's StringSerializer would refuse a byte[].
          return List.of(
              new ProducerRecord<>(
                  dlq, null, "key".getBytes(UTF_8), ("letter-" + batchId + "a").getBytes(UTF_8)),
              new ProducerRecord<>(dlq, null, null, ("letter-" + batchId + "b").getBytes(UTF_8)));
        });

    sink.write(values("a", 12), TestOffsets.batch(0, group, "in-" + app));
    await().atMost(Duration.ofSeconds(20)).until(() -> kafka.consumeAll(dlq, true).size() >= 2);
    assertThat(kafka.consumeAll(dlq, true))
        .extracting(r -> r.key() + "=" + r.value())
        .containsExactly("key=letter-0a", "null=letter-0b");

    // Batch 0 again: the offset fence refuses the commit after the letters went into the
    // transaction; they are aborted with it.
    assertThatThrownBy(() -> sink.write(values("a", 12), TestOffsets.batch(0, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 0 aborted");
    assertThat(kafka.consumeAll(dlq, false)).as("written, then aborted").hasSize(4);
    assertThat(kafka.consumeAll(dlq, true))
        .extracting(ConsumerRecord::value)
        .containsExactly("letter-0a", "letter-0b");
    assertThat(taken).containsExactly(0L, 0L);
  }

  @Test
  void anAtLeastOnceSinkTakesNoDeadLetters() {
    KafkaSink<String> sink = builder().build();
    assertThat(sink).isNotInstanceOf(DeadLetterTransaction.class);
  }

  @Test
  void zombieProducerIsFencedAndItsBatchFailsLoudly() throws Exception {
    TransactionalKafkaSink<String> zombie = openSink(builder().exactlyOnce(), ctx);
    zombie.write(values("a", 5), TestOffsets.batch(0, group, "in-" + app));

    StreamingContext successorCtx = context(app);
    toClose.add(() -> successorCtx.stop(false));
    TransactionalKafkaSink<String> successor = openSink(builder().exactlyOnce(), successorCtx);

    assertThatThrownBy(() -> zombie.write(values("z", 5), TestOffsets.batch(1, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 1")
        .hasMessageContaining("fenced");
    // A fenced sink refuses every later batch instead of fighting over the transactional id.
    assertThatThrownBy(() -> zombie.write(values("z", 5), TestOffsets.batch(2, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("fenced");

    successor.write(values("s", 5), TestOffsets.batch(1, group, "in-" + app));
    assertThat(committedValues(10))
        .containsExactly("a0", "a1", "a2", "a3", "a4", "s0", "s1", "s2", "s3", "s4");
  }

  @Test
  void transactionLeftOpenByACrashIsAbortedAtOpen() throws Exception {
    Map<String, Object> config = new HashMap<>(kafka.producerConfig());
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, app + "-kafka");
    KafkaProducer<String, String> crashed = new KafkaProducer<>(config);
    toClose.add(() -> crashed.close(Duration.ZERO));
    crashed.initTransactions();
    crashed.beginTransaction();
    for (int i = 0; i < 3; i++) {
      crashed.send(new ProducerRecord<>(out, "ghost" + i, "ghost" + i));
    }
    crashed.flush();
    assertThat(kafka.consumeAll(out, false)).hasSize(3);

    TransactionalKafkaSink<String> sink = openSink(builder().exactlyOnce(), ctx);
    sink.write(values("a", 4), TestOffsets.batch(0, group, "in-" + app));

    // Had the ghost transaction stayed open, the last stable offset would hide the batch's records
    // too.
    assertThat(committedValues(4)).containsExactly("a0", "a1", "a2", "a3");
  }

  @Test
  void transactionTimeoutAboveTheBrokerMaximumIsRefusedAtOpen() {
    KafkaSink<String> tooLong =
        builder().exactlyOnce().transactionTimeout(Duration.ofMillis(3_600_001)).build();
    assertThatThrownBy(() -> tooLong.open(ctx))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("transaction.timeout.ms is 3600001 ms")
        .hasMessageContaining("transaction.max.timeout.ms of 3600000 ms");

    KafkaSink<String> tooShort =
        builder().exactlyOnce().transactionTimeout(Duration.ofMillis(500)).build();
    assertThatThrownBy(() -> tooShort.open(ctx))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "transaction.timeout.ms is 500 ms, not above the batch interval of 500 ms");
  }

  @Test
  void failedSendAbortsTheTransactionAndFailsTheBatch() throws Exception {
    KafkaSink<String> sink =
        openSink(
            KafkaSink.<String>builder()
                .producerConfig(
                    Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                        2000))
                .keySerializer(new StringSerializer())
                .valueSerializer(new StringSerializer())
                .record(
                    v -> new ProducerRecord<>(out, v, v.startsWith("big") ? "x".repeat(5000) : v))
                .exactlyOnce(),
            ctx);

    RDD<String> rdd = ctx.parallelize(List.of("a", "b", "big", "c"), 2);
    assertThatThrownBy(() -> sink.write(rdd, TestOffsets.batch(0, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 0")
        .hasMessageContaining("aborted");
    assertThat(kafka.committedOffsets(group)).isEmpty();

    sink.write(ctx.parallelize(List.of("d", "e"), 2), TestOffsets.batch(0, group, "in-" + app));
    assertThat(committedValues(2)).containsExactly("d", "e");
  }

  @Test
  void aTaskFailingAfterItSentAChunkAbortsTheBatchAndItsReplayWritesEachRecordOnce()
      throws Exception {
    java.util.concurrent.atomic.AtomicBoolean failed =
        new java.util.concurrent.atomic.AtomicBoolean();
    TransactionalKafkaSink<String> sink =
        openSink(
            builder()
                .record(
                    v -> {
                      if (v.equals("a1200") && failed.compareAndSet(false, true)) {
                        throw new IllegalStateException("user code fails once at " + v);
                      }
                      return new ProducerRecord<>(out, v, v);
                    })
                .exactlyOnce(),
            ctx);
    // One partition of 1,500 records: the first 1,000 are in the transaction when record 1,200
    // fails, so a retry of the task would send them twice; the batch is aborted instead.
    RDD<String> rdd = values("a", 1_500).coalesce(1);

    assertThatThrownBy(() -> sink.write(rdd, TestOffsets.batch(0, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasStackTraceContaining("was attempted again after it had sent records");
    // Sent records may still sit in the producer's buffer when the abort drops them, so the log
    // holds at most the first chunk (none on a slow machine), all aborted.
    assertThat(kafka.consumeAll(out, false))
        .as("sent, then aborted")
        .hasSizeLessThanOrEqualTo(1_000);
    assertThat(committedValues()).isEmpty();

    sink.write(rdd, TestOffsets.batch(0, group, "in-" + app));
    assertThat(committedValues(1_500)).hasSize(1_500).doesNotHaveDuplicates();
    assertThat(failed).isTrue();
  }

  @Test
  void sendFailureInATaskIsNotRetriedAndAbortsTheBatch() throws Exception {
    AtomicInteger badSerializations = new AtomicInteger();
    org.apache.kafka.common.serialization.Serializer<String> failingOnce =
        (topic, v) -> {
          if (v.equals("bad") && badSerializations.getAndIncrement() == 0) {
            throw new org.apache.kafka.common.errors.SerializationException(
                "cannot serialize " + v);
          }
          return v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        };
    KafkaSink<String> sink =
        openSink(
            KafkaSink.<String>builder()
                .producerConfig(
                    Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
                .keySerializer(new StringSerializer())
                .valueSerializer(failingOnce)
                .record(v -> new ProducerRecord<>(out, v, v))
                .exactlyOnce(),
            ctx);
    // "a" is sent before "bad" fails in the same partition. The producer's failure is an
    // OffsetStoreException, which the engine does not retry (a retry would send "a" again into a
    // transaction that is doomed anyway): the batch fails at once and its transaction is aborted.
    RDD<String> rdd = ctx.parallelize(List.of("a", "bad", "c", "d"), 2);

    assertThatThrownBy(() -> sink.write(rdd, TestOffsets.batch(0, group, "in-" + app)))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 0 failed and its transaction was aborted")
        .hasStackTraceContaining("cannot serialize bad");
    assertThat(badSerializations).hasValue(1);
    assertThat(registry.get("sluice.task.retries").tag("app", app).counter().count()).isZero();
    assertThat(committedValues()).isEmpty();
    assertThat(kafka.committedOffsets(group)).isEmpty();

    sink.write(rdd, TestOffsets.batch(0, group, "in-" + app));
    assertThat(committedValues(4)).containsExactly("a", "bad", "c", "d");
  }

  @Test
  void atLeastOnceSendsWithoutTransactionsOrOffsets() throws Exception {
    KafkaSink<String> sink = builder().build();
    sink.open(ctx);
    toClose.add(sink::close);
    sink.write(values("a", 7), TestOffsets.batch(0, group, "in-" + app));

    assertThat(committedValues(7)).hasSize(7);
    assertThat(kafka.committedOffsets(group)).isEmpty();
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
    assertThat(sink.exactlyOnceGaps())
        .containsExactly(
            "KafkaSink[kafka] is at-least-once: a replayed batch is sent again (build it with"
                + " exactlyOnce())");
    assertThat(sink.offsetCommitTarget()).isEmpty();
    // The type says the guarantee: an at-least-once sink is not a transactional one.
    assertThat(sink).isNotInstanceOf(TransactionalSink.class);
  }

  @Test
  void exactlyOnceSinkIsATransactionalSinkCommittingToTheCluster() {
    TransactionalKafkaSink<String> sink = builder().exactlyOnce().build();
    assertThat(sink).isInstanceOf(TransactionalSink.class);
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    assertThat(sink.exactlyOnceGaps()).isEmpty();
    assertThat(sink.offsetCommitTarget()).isPresent();
    assertThat(sink.transactionalId()).isNull();
  }

  @Test
  void builderNamesTheBadSetting() {
    assertThatThrownBy(() -> KafkaSink.<String>builder().record(v -> null).build())
        .hasMessage("producerConfig must contain bootstrap.servers, was null");
    assertThatThrownBy(
            () ->
                builder()
                    .producerConfig(Map.of("bootstrap.servers", "x", "transactional.id", "mine"))
                    .build())
        .hasMessageContaining("transactional.id is derived as <appName>-<name>");
    assertThatThrownBy(() -> builder().name("has space").build())
        .hasMessage("name must be letters, digits, '.', '_' or '-', was 'has space'");
    assertThatThrownBy(() -> builder().exactlyOnce().transactionTimeout(Duration.ZERO).build())
        .hasMessage("transactionTimeout must be > 0, was PT0S");
    assertThatThrownBy(
            () ->
                KafkaSink.<String>builder()
                    .producerConfig(Map.of("bootstrap.servers", "x"))
                    .record(v -> new ProducerRecord<>(out, v, v))
                    .exactlyOnce()
                    .build())
        .hasMessage(
            "keySerializer or key.serializer in producerConfig must be set, both were null");
  }
}
