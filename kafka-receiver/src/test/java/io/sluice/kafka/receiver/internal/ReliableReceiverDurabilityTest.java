package io.sluice.kafka.receiver.internal;

import static io.sluice.kafka.receiver.ReceiverHarness.WAIT;
import static io.sluice.kafka.receiver.ReceiverHarness.curator;
import static io.sluice.kafka.receiver.ReceiverHarness.params;
import static io.sluice.kafka.receiver.ReceiverHarness.produce;
import static io.sluice.kafka.receiver.ReceiverHarness.unique;
import static io.sluice.kafka.receiver.ReceiverHarness.zooKeeperOffsets;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.kafka.receiver.ReceiverHarness;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing is committed that is not in the write-ahead log: a block held or failing before the log
 * holds the offsets back, and a rebalance hands partitions over at what was stored.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedZooKeeperExtension.class})
class ReliableReceiverDurabilityTest {

  @TempDir Path checkpointA;
  @TempDir Path checkpointB;

  private final DurabilityProbe probe = new DurabilityProbe();
  private OffsetStore zkStore;
  private OffsetStore store;
  private CuratorFramework zk;

  @BeforeEach
  void connect(EmbeddedZooKeeper server) {
    zkStore = OffsetStores.zookeeper(server.connectString());
    store = probe.checking(zkStore);
    zk = curator(server.connectString());
  }

  @AfterEach
  void close() {
    zk.close();
    zkStore.close();
  }

  /** Registers a reliable receiver committing to ZooKeeper through the probe. */
  private void reliable(
      ReceiverHarness h,
      EmbeddedKafka kafka,
      String topic,
      String group,
      Consumer<List<ReceivedRecord>> beforeStore) {
    ReceiverParams params = ReceiverParams.validate(List.of(topic), params(kafka, group));
    KafkaBlockReceiver receiver =
        KafkaReceiverStreams.receiver(
            h.ctx,
            params,
            store,
            probe.writer(beforeStore),
            Duration.ofMillis(200),
            Duration.ofSeconds(5),
            "reliable Kafka receiver");
    h.collect(KafkaReceiverStreams.stream(h.ctx, params, receiver));
  }

  private static boolean reaches(List<ReceivedRecord> block, long offset) {
    return block.stream().anyMatch(r -> r.offset() >= offset);
  }

  private static Map<TopicPartition, Long> at(String topic, long offset) {
    return Map.of(new TopicPartition(topic, 0), offset);
  }

  @Test
  void aBlockHeldBeforeTheLogHoldsTheOffsetsBack(EmbeddedKafka kafka) throws Exception {
    String topic = unique("held");
    String group = unique("held-group");
    kafka.createTopic(topic, 1);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> expected = new ArrayList<>(produce(kafka, topic, 1, 0, 10, "a", false));

    try (ReceiverHarness h = new ReceiverHarness(checkpointA, true, 0)) {
      reliable(
          h,
          kafka,
          topic,
          group,
          block -> {
            if (reaches(block, 10)) {
              entered.countDown();
              awaitLatch(release);
            }
          });
      h.ctx.start();
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 10)));
      expected.addAll(produce(kafka, topic, 1, 10, 10, "b", false));
      assertThat(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      // Polled but not yet in the log: ZooKeeper stays where the stored blocks reached.
      await()
          .during(Duration.ofMillis(800))
          .atMost(Duration.ofSeconds(5))
          .until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 10)));
      release.countDown();
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 20)));
      h.runBatch();

      assertThat(h.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(probe.violations).isEmpty();
  }

  @Test
  void aBlockThatFailsToStoreIsNotCommittedAndIsReceivedAgain(EmbeddedKafka kafka) {
    String topic = unique("failing");
    String group = unique("failing-group");
    kafka.createTopic(topic, 1);
    AtomicInteger failures = new AtomicInteger();
    List<String> expected = new ArrayList<>(produce(kafka, topic, 1, 0, 10, "a", false));

    try (ReceiverHarness h = new ReceiverHarness(checkpointA, true, 0)) {
      reliable(
          h,
          kafka,
          topic,
          group,
          block -> {
            if (reaches(block, 10) && failures.getAndIncrement() == 0) {
              throw new IllegalStateException("write-ahead log unavailable (test)");
            }
          });
      h.ctx.start();
      // The probe records a commit after ZooKeeper holds it: wait for both.
      await()
          .atMost(WAIT)
          .until(
              () ->
                  zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 10))
                      && probe.commits.stream()
                          .anyMatch(c -> c.ranges().get(0).untilOffset() == 10));
      long commitsBefore = probe.commits.size();
      expected.addAll(produce(kafka, topic, 1, 10, 10, "b", false));
      // The receiver restarts, its new consumer starts at ZooKeeper's 10 and fetches them again.
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 20)));
      h.runBatch();

      assertThat(failures).hasValueGreaterThan(1); // failed once, then stored on the next run
      assertThat(probe.commits.subList((int) commitsBefore, probe.commits.size()))
          .allSatisfy(c -> assertThat(c.ranges().get(0).fromOffset()).isGreaterThanOrEqualTo(10));
      assertThat(h.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(probe.violations).isEmpty();
  }

  @Test
  void blocksStoredWhoseCommitWasLostAreNotReceivedAgainAfterARestart(EmbeddedKafka kafka) {
    String topic = unique("lost-commit");
    String group = unique("lost-commit-group");
    kafka.createTopic(topic, 1);
    List<String> expected = new ArrayList<>(produce(kafka, topic, 1, 0, 10, "a", false));
    TopicPartition tp = new TopicPartition(topic, 0);

    try (ReceiverHarness first = new ReceiverHarness(checkpointA, true, 0)) {
      reliable(first, kafka, topic, group, block -> {});
      first.ctx.start();
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 10)));
      probe.commitsDown = true; // the blocks below reach the log, their commits do not
      expected.addAll(produce(kafka, topic, 1, 10, 10, "b", false));
      await().atMost(WAIT).until(() -> probe.stored.getOrDefault(tp, 0L) == 20L);
    } // the crash: the log holds 20 records, ZooKeeper says 10
    assertThat(zooKeeperOffsets(zk, group, topic, 1)).isEqualTo(at(topic, 10));
    probe.commitsDown = false;

    try (ReceiverHarness second = new ReceiverHarness(checkpointA, true, 10)) {
      reliable(second, kafka, topic, group, block -> {});
      second.ctx.start();
      // The receiver continues after what the log holds and commits it.
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 20)));
      expected.addAll(produce(kafka, topic, 1, 20, 5, "c", false));
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 1).equals(at(topic, 25)));
      second.runBatch();

      assertThat(second.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(probe.violations).isEmpty();
  }

  @Test
  void aSecondMemberTakesOverPartitionsWhereTheStoredBlocksReached(EmbeddedKafka kafka) {
    String topic = unique("rebalance");
    String group = unique("rebalance-group");
    kafka.createTopic(topic, 4);
    List<String> expected = new ArrayList<>(produce(kafka, topic, 4, 0, 40, "a", false));

    try (ReceiverHarness a = new ReceiverHarness(checkpointA, true, 0);
        ReceiverHarness b = new ReceiverHarness(checkpointB, true, 0)) {
      reliable(a, kafka, topic, group, block -> {});
      a.ctx.start();
      Map<TopicPartition, Long> first = kafka.endOffsets(topic);
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 4).equals(first));

      reliable(b, kafka, topic, group, block -> {});
      b.ctx.start();
      await().atMost(WAIT).until(() -> bothMembersOwnPartitions(kafka, group));
      expected.addAll(produce(kafka, topic, 4, 40, 40, "b", false));
      Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 4).equals(ends));
      a.runBatch();
      b.runBatch();

      List<String> all = new ArrayList<>(a.seen);
      all.addAll(b.seen);
      assertThat(all).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(b.seen).isNotEmpty();
    }
    assertThat(probe.violations).isEmpty();
  }

  private static boolean bothMembersOwnPartitions(EmbeddedKafka kafka, String group)
      throws Exception {
    try (var admin = kafka.admin()) {
      ConsumerGroupDescription d =
          admin.describeConsumerGroups(List.of(group)).all().get().get(group);
      return d.members().size() == 2
          && d.members().stream()
              .map(MemberDescription::assignment)
              .allMatch(m -> !m.topicPartitions().isEmpty());
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("never released (test)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
