package io.sluice.kafka.direct;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.internal.TestSupport;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group mode: processes of one application share a topic's partitions through the consumer group's
 * coordinator; a leaving member hands its partitions over at a batch boundary.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class GroupModeTest {

  /** One process of the application: a context whose output records what it read. */
  static final class Member implements AutoCloseable {
    final String name;
    final StreamingContext ctx;
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final Map<String, List<String>> seen;
    // When armed, the next batch with records waits in its output until released.
    volatile boolean holdNext;
    final java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

    Member(
        String name,
        EmbeddedKafka kafka,
        String topic,
        String group,
        Path checkpoint,
        Map<String, List<String>> seen) {
      this(name, kafka, topic, group, checkpoint, seen, "classic");
    }

    Member(
        String name,
        EmbeddedKafka kafka,
        String topic,
        String group,
        Path checkpoint,
        Map<String, List<String>> seen,
        String protocol) {
      this.name = name;
      this.seen = seen;
      StreamingContext.Builder b =
          StreamingContext.builder()
              .appName("group-mode-test")
              .batchInterval(Duration.ofMillis(200))
              .parallelism(2);
      ctx = (checkpoint == null ? b : b.checkpointDir(checkpoint)).build();
      ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchFailed(BatchInfo batch, Throwable cause) {
              failure.compareAndSet(null, cause);
            }

            @Override
            public void onError(Throwable error) {
              failure.compareAndSet(null, error);
            }
          });
      Map<String, Object> params = TestSupport.params(kafka, group, false);
      if (protocol.equals("classic")) {
        params.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
        params.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
      } else {
        // KIP-848: the broker assigns; session and heartbeat are the group's broker-side configs.
        params.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
      }
      KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(List.of(topic), params),
              DirectStreamOptions.builder().groupMembership(true).build())
          .foreachRDD(
              rdd -> {
                List<ConsumerRecord<String, String>> records = rdd.collect();
                if (holdNext && !records.isEmpty()) {
                  holdNext = false;
                  held.countDown();
                  release.await(60, java.util.concurrent.TimeUnit.SECONDS);
                }
                records.forEach(
                    r ->
                        seen.computeIfAbsent(
                                r.partition() + "@" + r.offset(), k -> new CopyOnWriteArrayList<>())
                            .add(name));
              });
      ctx.start();
    }

    @Override
    public void close() {
      ctx.stop(false);
    }
  }

  @Test
  void membersShareThePartitionsAndHandThemOverAtBatchBoundaries(EmbeddedKafka kafka)
      throws Exception {
    shareAndHandOver(kafka, "classic");
  }

  @Test
  void theKip848ConsumerProtocolSharesAndHandsOverAlike(EmbeddedKafka kafka) throws Exception {
    shareAndHandOver(kafka, "consumer");
  }

  private void shareAndHandOver(EmbeddedKafka kafka, String protocol) throws Exception {
    String topic = TestSupport.topic("group");
    String group = "group-" + topic;
    kafka.createTopic(topic, 4);
    Map<String, List<String>> seen = new ConcurrentHashMap<>();
    int produced = produce(kafka, topic, "a", 50);
    try (Member a = new Member("A", kafka, topic, group, null, seen, protocol)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == 200);
      Member b = new Member("B", kafka, topic, group, null, seen, protocol);
      try {
        // Both members read once the cooperative rebalance has moved two partitions to B.
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  produce(kafka, topic, "b", 5);
                  return readers(seen).containsAll(Set.of("A", "B"));
                });
        produced = (int) kafka.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
        assertThat(a.failure.get()).isNull();
        assertThat(b.failure.get()).isNull();
      } finally {
        // B leaves while A keeps running: its partitions go back to A after B's last batch.
        b.close();
      }
      produced += produce(kafka, topic, "c", 50);
      int expected = produced;
      await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == expected);
      assertThat(a.failure.get()).isNull();
      assertThat(b.failure.get()).isNull();
      Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> committed(kafka.committedOffsets(group)).equals(ends));
    }
    // Every record read exactly once across the members.
    Map<String, List<String>> twice =
        seen.entrySet().stream()
            .filter(e -> e.getValue().size() != 1)
            .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    assertThat(twice).isEmpty();
    assertThat(seen).hasSize(produced);
  }

  @Test
  void aRevokedPartitionMovesOnlyAfterTheBatchHoldingItCommitted(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("group-hold");
    String group = "group-" + topic;
    kafka.createTopic(topic, 2);
    Map<String, List<String>> seen = new ConcurrentHashMap<>();
    int produced = produce(kafka, topic, "a", 10);
    try (Member a = new Member("A", kafka, topic, group, null, seen)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == 20);
      // A's next batch with records holds both partitions in its output.
      a.holdNext = true;
      produced += produce(kafka, topic, "b", 5);
      assertThat(a.held.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      try (Member b = new Member("B", kafka, topic, group, null, seen)) {
        produced += produce(kafka, topic, "c", 5);
        // B joins, but the partition A gives up stays with A while A's batch is held: B reads
        // nothing (it would read from the committed offsets, before the held batch, otherwise).
        await()
            .during(Duration.ofSeconds(4))
            .atMost(Duration.ofSeconds(6))
            .until(() -> !readers(seen).contains("B"));
        a.release.countDown();
        java.util.concurrent.atomic.AtomicInteger more =
            new java.util.concurrent.atomic.AtomicInteger();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  more.addAndGet(produce(kafka, topic, "d", 1));
                  return readers(seen).contains("B");
                });
        // Everything produced is read, B's share included (B may have read only "c" records so
        // far).
        int expected = produced + more.get();
        await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == expected);
        assertThat(a.failure.get()).isNull();
        assertThat(b.failure.get()).isNull();
      }
    }
    assertThat(seen.values()).allSatisfy(readers -> assertThat(readers).hasSize(1));
  }

  @Test
  void aRestartedMemberContinuesFromTheGroupNotFromItsBatchLog(
      EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
    String topic = TestSupport.topic("group-restart");
    String group = "group-" + topic;
    kafka.createTopic(topic, 2);
    Map<String, List<String>> seen = new ConcurrentHashMap<>();
    produce(kafka, topic, "a", 30);
    Path checkpoint = dir.resolve("cp");
    try (Member a = new Member("A", kafka, topic, group, checkpoint, seen)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == 60);
      Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> committed(kafka.committedOffsets(group)).equals(ends));
    }
    produce(kafka, topic, "b", 20);
    try (Member again = new Member("A2", kafka, topic, group, checkpoint, seen)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == 100);
      assertThat(again.failure.get()).isNull();
    }
    assertThat(seen.values()).allSatisfy(readers -> assertThat(readers).hasSize(1));
    Set<String> afterRestart = new java.util.TreeSet<>();
    for (int p = 0; p < 2; p++) {
      for (int o = 30; o < 50; o++) {
        afterRestart.add(p + "@" + o);
      }
    }
    Set<String> readByRestarted =
        seen.entrySet().stream()
            .filter(e -> e.getValue().equals(List.of("A2")))
            .map(Map.Entry::getKey)
            .collect(Collectors.toCollection(java.util.TreeSet::new));
    assertThat(readByRestarted).isEqualTo(afterRestart);
  }

  @Test
  void groupModeRefusesWhatItCannotHonour(EmbeddedKafka kafka) {
    Map<String, Object> params = TestSupport.params(kafka, "g", false);
    StreamingContext ctx =
        StreamingContext.builder().appName("refuse").batchInterval(Duration.ofMillis(200)).build();
    assertThatThrownBy(
            () ->
                KafkaDirect.createDirectStream(
                    ctx,
                    ConsumerStrategies.<String, String>assign(
                        List.of(new TopicPartition("t", 0)), params),
                    DirectStreamOptions.builder().groupMembership(true).build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("groupMembership(true)")
        .hasMessageContaining("assign[t-0]");
    assertThatThrownBy(
            () ->
                DirectStreamOptions.builder()
                    .groupMembership(true)
                    .startingOffsets(io.sluice.offsets.StartingOffsets.earliest())
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("startingOffsets");
  }

  @Test
  void groupModeTakesNoOffsetStoreButTheJdbcOne(@TempDir Path dir) {
    try (var store = io.sluice.offsets.OffsetStores.file(dir)) {
      assertThatThrownBy(
              () -> DirectStreamOptions.builder().groupMembership(true).offsetStore(store).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(store.describe())
          .hasMessageContaining("OffsetStores.jdbc");
    }
  }

  @Test
  void startRefusesWindowsAndStateWithoutAChangelogOverASharedInput(EmbeddedKafka kafka) {
    for (String kind : List.of("updateStateByKey", "window")) {
      StreamingContext ctx =
          StreamingContext.builder()
              .appName("refuse-" + kind)
              .batchInterval(Duration.ofMillis(200))
              .build();
      var stream =
          KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of("t"), TestSupport.params(kafka, "g-" + kind, false)),
              DirectStreamOptions.builder().groupMembership(true).name("orders").build());
      if (kind.equals("window")) {
        stream.window(Duration.ofSeconds(1)).count().print();
      } else {
        stream
            .mapToPair(r -> io.sluice.engine.KV.of(r.key(), 1L))
            .updateStateByKey(
                (java.util.List<Long> values, java.util.Optional<Long> state) ->
                    java.util.Optional.of(state.orElse(0L) + values.size()))
            .print();
      }
      if (kind.equals("window")) {
        assertThatThrownBy(ctx::start)
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("window '")
            .hasMessageContaining("reads input 'orders'")
            .hasMessageContaining("group mode")
            .hasMessageContaining("leaderElection");
      } else {
        // Keyed state moves with its partitions only through a changelog kept where the offsets
        // commit; print() commits nothing.
        assertThatThrownBy(ctx::start)
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("updateStateByKey '")
            .hasMessageContaining("over input 'orders' (group mode)")
            .hasMessageContaining("changelog")
            .hasMessageContaining("JdbcSink");
      }
      assertThat(ctx.state()).isNotEqualTo(StreamingContext.State.ACTIVE);
    }
  }

  private static Set<String> readers(Map<String, List<String>> seen) {
    return seen.values().stream().flatMap(List::stream).collect(Collectors.toSet());
  }

  private static Map<TopicPartition, Long> committed(Map<TopicPartition, OffsetAndMetadata> c) {
    Map<TopicPartition, Long> out = new HashMap<>();
    c.forEach((tp, om) -> out.put(tp, om.offset()));
    return out;
  }

  /** Produces {@code perPartition} records to each of the topic's partitions; returns how many. */
  private static int produce(EmbeddedKafka kafka, String topic, String prefix, int perPartition) {
    int partitions = kafka.endOffsets(topic).size();
    for (int p = 0; p < partitions; p++) {
      kafka.produce(records(topic, p, prefix + p, perPartition));
    }
    return partitions * perPartition;
  }
}
