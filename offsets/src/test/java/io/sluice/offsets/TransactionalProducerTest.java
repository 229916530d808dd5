package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.offsets.TransactionalProducerException.Kind;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The owner of a transactional producer against a real broker. */
@ExtendWith(EmbeddedKafkaExtension.class)
class TransactionalProducerTest {

  private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private final EmbeddedKafka kafka;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Admin admin;
  private String id;
  private String in;
  private String out;
  private String group;

  TransactionalProducerTest(EmbeddedKafka kafka) {
    this.kafka = kafka;
  }

  @BeforeEach
  void setUp() {
    String n = UUID.randomUUID().toString();
    id = "txn-" + n;
    in = "in-" + n;
    out = "out-" + n;
    group = "g-" + n;
    kafka.createTopic(out, 2);
    // The group coordinator refuses offsets of topics that do not exist.
    kafka.createTopic(in, 1);
    admin = kafka.admin();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    admin.close(TIMEOUT);
  }

  private TransactionalProducer<String, String> start() {
    TransactionalProducer<String, String> p =
        TransactionalProducer.start(
            id,
            Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new StringSerializer(),
            new StringSerializer(),
            admin,
            TIMEOUT);
    toClose.add(p);
    return p;
  }

  private BatchCommit batch(long batchId, long from, long until) {
    return new BatchCommit(
        group, batchId, T0.plusSeconds(batchId), List.of(new OffsetRange(in, 0, from, until)));
  }

  private static TransactionalProducer.GroupCheck fence() {
    return TransactionalProducer.GroupCheck.rangesStartAt("the test");
  }

  private void send(TransactionalProducer<String, String> p, String... values) {
    for (String v : values) {
      p.send(new ProducerRecord<>(out, v, v), null);
    }
  }

  /** One whole transaction: begin, the values, commit with the offset fence. */
  private void commitBatch(
      TransactionalProducer<String, String> p, BatchCommit batch, String... values) {
    p.begin();
    send(p, values);
    p.commit(List.of(batch), fence());
  }

  /** The group's committed position of the input partition once it is {@code expected}. */
  private void awaitPosition(long expected) {
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(kafka.committedOffsets(group))
                    .extractingByKey(new TopicPartition(in, 0))
                    .extracting(OffsetAndMetadata::offset)
                    .isEqualTo(expected));
  }

  private List<String> committedValues() {
    return kafka.consumeAll(out, true).stream().map(ConsumerRecord::value).sorted().toList();
  }

  private List<String> committedValues(int expected) {
    await().atMost(TIMEOUT).until(() -> committedValues().size() >= expected);
    return committedValues();
  }

  private Map<TopicPartition, OffsetAndMetadata> groupOffsets(int expected) {
    await().atMost(TIMEOUT).until(() -> kafka.committedOffsets(group).size() >= expected);
    return kafka.committedOffsets(group);
  }

  @Test
  void commitMakesRecordsAndOffsetsVisibleTogetherToReadCommitted() {
    TransactionalProducer<String, String> p = start();

    p.begin();
    send(p, "a", "b", "c");
    p.flush();
    // Sent and flushed, but neither the records nor the offsets are committed yet.
    assertThat(kafka.consumeAll(out, false)).hasSize(3);
    assertThat(committedValues()).isEmpty();
    assertThat(kafka.committedOffsets(group)).isEmpty();

    p.commit(List.of(batch(0, 0, 10)), fence());

    assertThat(committedValues(3)).containsExactly("a", "b", "c");
    OffsetAndMetadata committed = groupOffsets(1).get(new TopicPartition(in, 0));
    assertThat(committed.offset()).isEqualTo(10);
    assertThat(KafkaCommitMetadata.batchId(committed.metadata())).hasValue(0);
  }

  @Test
  void abortLeavesNothingAndTheProducerGoesOn() {
    TransactionalProducer<String, String> p = start();

    p.begin();
    send(p, "x1", "x2");
    p.flush();
    p.abort(new IllegalStateException("a task failed"));

    assertThat(kafka.consumeAll(out, false)).hasSize(2);
    assertThat(committedValues()).isEmpty();
    assertThat(kafka.committedOffsets(group)).isEmpty();
    assertThat(p.fenced()).isFalse();

    commitBatch(p, batch(0, 0, 5), "y1");
    assertThat(committedValues(1)).containsExactly("y1");
    awaitPosition(5);
  }

  @Test
  void sendsFromSeveralThreadsCommitAsOneTransaction() throws Exception {
    TransactionalProducer<String, String> p = start();
    ExecutorService tasks =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "sluice-test-task");
              t.setUncaughtExceptionHandler((th, e) -> e.printStackTrace());
              return t;
            });
    try {
      p.begin();
      List<Future<?>> sent = new ArrayList<>();
      for (int task = 0; task < 4; task++) {
        int t = task;
        sent.add(
            tasks.submit(
                () -> {
                  for (int i = 0; i < 25; i++) {
                    send(p, "t" + t + "-" + i);
                  }
                }));
      }
      for (Future<?> f : sent) {
        f.get(30, TimeUnit.SECONDS);
      }
      p.commit(List.of(batch(0, 0, 100)), fence());
    } finally {
      tasks.shutdownNow();
    }

    assertThat(committedValues(100)).hasSize(100).doesNotHaveDuplicates();
  }

  @Test
  void aSecondInstanceFencesTheFirstWhichThenRefusesEveryCall() {
    TransactionalProducer<String, String> first = start();
    first.begin();
    send(first, "zombie");
    first.flush();

    TransactionalProducer<String, String> second = start();

    assertThatThrownBy(() -> first.commit(List.of(batch(0, 0, 10)), fence()))
        .isInstanceOfSatisfying(
            TransactionalProducerException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FENCED))
        .hasMessageContaining("transactional producer '" + id + "'")
        .hasMessageContaining("fenced by a newer producer with the same transactional.id");
    assertThat(first.fenced()).isTrue();
    // Every later call is refused, naming the fence, instead of fighting over the transactional id.
    assertThatThrownBy(first::begin)
        .isInstanceOfSatisfying(
            TransactionalProducerException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FENCED))
        .hasMessageContaining("refuses to begin a transaction")
        .hasMessageContaining("was fenced: a newer producer with the same transactional.id started")
        .hasMessageContaining("This process is a zombie: stop it");
    assertThatThrownBy(() -> first.send(new ProducerRecord<>(out, "late", "late"), null))
        .isInstanceOf(TransactionalProducerException.class)
        .hasMessageContaining("refuses to send a record");

    commitBatch(second, batch(0, 0, 10), "successor");
    // initTransactions of the second aborted what the first had sent.
    assertThat(committedValues(1)).containsExactly("successor");
    awaitPosition(10);
  }

  @Test
  void aGroupMovedBetweenBeginAndCommitIsRefusedAndTheTransactionAborted() throws Exception {
    TransactionalProducer<String, String> p = start();
    commitBatch(p, batch(0, 0, 10), "a");
    awaitPosition(10);

    p.begin();
    send(p, "b1", "b2");
    // What kafka-consumer-groups --reset-offsets does meanwhile: no transactional id, no producer
    // fence.
    admin
        .alterConsumerGroupOffsets(
            group, Map.of(new TopicPartition(in, 0), new OffsetAndMetadata(4)))
        .all()
        .get(20, TimeUnit.SECONDS);

    assertThatThrownBy(() -> p.commit(List.of(batch(1, 10, 20)), fence()))
        .isInstanceOfSatisfying(
            OffsetFencedException.class,
            e -> {
              assertThat(e.fromOffset()).isEqualTo(10);
              assertThat(e.storedOffset()).isEqualTo(4);
            })
        .hasMessageContaining("refused by the test");
    assertThat(p.fenced()).isFalse();
    assertThat(kafka.consumeAll(out, false)).hasSize(3);
    assertThat(committedValues()).containsExactly("a");
    assertThat(kafka.committedOffsets(group).get(new TopicPartition(in, 0)).offset()).isEqualTo(4);

    // The aborted transaction left the producer usable: a batch planned from the moved position
    // commits.
    commitBatch(p, batch(1, 4, 12), "c");
    assertThat(committedValues(2)).containsExactly("a", "c");
    awaitPosition(12);
  }

  @Test
  void callsOutOfOrderAreRefusedWithClearMessages() {
    TransactionalProducer<String, String> p = start();

    assertThatThrownBy(() -> p.send(new ProducerRecord<>(out, "k", "v"), null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "transactional producer '"
                + id
                + "': cannot send a record: no transaction is open (call begin())");
    assertThatThrownBy(() -> p.commit(List.of(), fence()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot commit: no transaction is open");
    p.begin();
    assertThatThrownBy(p::begin)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a transaction is already open");
    p.abort(new IllegalStateException("test"));

    p.close();
    p.close();
    assertThatThrownBy(p::begin)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("transactional producer '" + id + "' is closed");
  }

  /** A member of the test's group, subscribed to the input topic; closed after the test. */
  private KafkaConsumer<String, String> member() {
    Map<String, Object> config = kafka.consumerConfig(group);
    config.put("key.deserializer", StringDeserializer.class);
    config.put("value.deserializer", StringDeserializer.class);
    KafkaConsumer<String, String> c = new KafkaConsumer<>(config);
    toClose.add(() -> c.close(Duration.ofSeconds(2)));
    c.subscribe(List.of(in));
    return c;
  }

  @Test
  void offsetsSentWithAnEndedGenerationAreRefusedByTheGroupCoordinator() {
    KafkaConsumer<String, String> first = member();
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              first.poll(Duration.ofMillis(50));
              return !first.assignment().isEmpty();
            });
    ConsumerGroupMetadata ended = first.groupMetadata();
    KafkaConsumer<String, String> second = member();
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              first.poll(Duration.ofMillis(50));
              second.poll(Duration.ofMillis(50));
              int generation = first.groupMetadata().generationId();
              return generation > ended.generationId()
                  && generation == second.groupMetadata().generationId();
            });
    TransactionalProducer<String, String> p = start();
    p.begin();
    send(p, "zombie");
    // A member that lost the partition in the rebalance (KIP-447): the commit fails, aborted.
    assertThatThrownBy(() -> p.commit(List.of(batch(0, 0, 5)), fence(), c -> ended))
        .isInstanceOf(TransactionalProducerException.class);
    assertThat(kafka.committedOffsets(group)).isEmpty();

    ConsumerGroupMetadata current = first.groupMetadata();
    p.begin();
    send(p, "current");
    p.commit(List.of(batch(1, 0, 5)), fence(), c -> current);
    awaitPosition(5);
    assertThat(committedValues(1)).containsExactly("current");
  }
}
