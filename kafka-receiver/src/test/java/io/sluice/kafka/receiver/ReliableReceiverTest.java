package io.sluice.kafka.receiver;

import static io.sluice.kafka.receiver.ReceiverHarness.WAIT;
import static io.sluice.kafka.receiver.ReceiverHarness.curator;
import static io.sluice.kafka.receiver.ReceiverHarness.groupOffsets;
import static io.sluice.kafka.receiver.ReceiverHarness.params;
import static io.sluice.kafka.receiver.ReceiverHarness.produce;
import static io.sluice.kafka.receiver.ReceiverHarness.unique;
import static io.sluice.kafka.receiver.ReceiverHarness.zooKeeperOffsets;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.cli.SluiceCli;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The reliable Kafka receiver against a real broker and ZooKeeper. */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedZooKeeperExtension.class})
class ReliableReceiverTest {

  @TempDir Path checkpoint;

  private OffsetStore store;
  private CuratorFramework zk;
  private String connect;

  @BeforeEach
  void connect(EmbeddedZooKeeper server) {
    connect = server.connectString();
    store = OffsetStores.zookeeper(server.connectString());
    zk = curator(server.connectString());
  }

  @AfterEach
  void close() {
    zk.close();
    store.close();
  }

  private ReliableReceiverOptions zooKeeper() {
    return ReliableReceiverOptions.builder().offsetStore(store).build();
  }

  @Test
  void storesEveryRecordOnceAndZooKeeperHoldsThePositionsOfWhatWasStored(EmbeddedKafka kafka) {
    String topic = unique("reliable");
    String group = unique("reliable-group");
    kafka.createTopic(topic, 3);
    // Two transactions: each partition holds 10 records, a commit marker, 10 records, a marker.
    List<String> expected = new ArrayList<>(produce(kafka, topic, 3, 0, 30, "a", true));
    expected.addAll(produce(kafka, topic, 3, 30, 30, "b", true));
    Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
    assertThat(ends.values()).containsOnly(22L);

    try (ReceiverHarness h = new ReceiverHarness(checkpoint, true, 0)) {
      h.collect(KafkaReceivers.reliable(h.ctx, List.of(topic), params(kafka, group), zooKeeper()));
      h.ctx.start();
      // Positions, not last offset + 1 (21): the trailing markers are covered.
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 3).equals(ends));
      h.runBatch();

      assertThat(h.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(zooKeeperOffsets(zk, group, topic, 3)).isEqualTo(ends);
    assertThat(store.committed(group)).isEqualTo(ends);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] list = {
      "offsets", "list", "--store", "zookeeper", "--zookeeper", connect, "--group", group
    };
    assertThat(SluiceCli.run(new PrintWriter(out), new PrintWriter(err), list))
        .as("sluice offsets list, stderr: %s", err)
        .isZero();
    assertThat(out.toString().lines())
        .contains(topic + "  0          22", topic + "  1          22", topic + "  2          22");

    // One commit per stored block (or marker step), batch ids 0, 1, 2 ..., each range starting
    // where the previous commit of its partition ended.
    List<BatchCommit> history = new ArrayList<>(store.history(group, 1000));
    history.sort(Comparator.comparingLong(BatchCommit::batchId));
    assertThat(history).extracting(BatchCommit::batchId).isEqualTo(ids(history.size()));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(history.size() - 1));
    Map<TopicPartition, Long> position = new HashMap<>();
    for (BatchCommit c : history) {
      for (OffsetRange r : c.ranges()) {
        assertThat(r.fromOffset())
            .as("start of %s in batch %d", r, c.batchId())
            .isEqualTo(position.getOrDefault(r.topicPartition(), 0L));
        assertThat(r.untilOffset()).isGreaterThan(r.fromOffset());
        position.put(r.topicPartition(), r.untilOffset());
      }
    }
    assertThat(position).isEqualTo(ends);
  }

  @Test
  void aRestartedContextReplaysTheLogAndResumesFromZooKeeper(EmbeddedKafka kafka) {
    String topic = unique("resume");
    String group = unique("resume-group");
    kafka.createTopic(topic, 2);
    List<String> expected = new ArrayList<>(produce(kafka, topic, 2, 0, 30, "a", false));

    try (ReceiverHarness first = new ReceiverHarness(checkpoint, true, 0)) {
      first.collect(
          KafkaReceivers.reliable(first.ctx, List.of(topic), params(kafka, group), zooKeeper()));
      first.ctx.start();
      Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 2).equals(ends));
      // Stops without running a batch: the records are only in the write-ahead log now.
      assertThat(first.seen).isEmpty();
    }

    expected.addAll(produce(kafka, topic, 2, 30, 30, "b", false));
    try (ReceiverHarness second = new ReceiverHarness(checkpoint, true, 100)) {
      second.collect(
          KafkaReceivers.reliable(second.ctx, List.of(topic), params(kafka, group), zooKeeper()));
      second.ctx.start();
      Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
      await().atMost(WAIT).until(() -> zooKeeperOffsets(zk, group, topic, 2).equals(ends));
      second.runBatch();

      // The first 30 come back from the log, the next 30 from Kafka after the ZooKeeper offsets.
      assertThat(second.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  @Test
  void withoutAStoreTheReliableReceiverCommitsToTheKafkaGroup(EmbeddedKafka kafka) {
    String topic = unique("reliable-kafka");
    String group = unique("reliable-kafka-group");
    kafka.createTopic(topic, 2);
    List<String> expected = produce(kafka, topic, 2, 0, 40, "v", true);

    try (ReceiverHarness h = new ReceiverHarness(checkpoint, true, 0)) {
      h.collect(
          KafkaReceivers.reliable(
              h.ctx, List.of(topic), params(kafka, group), ReliableReceiverOptions.defaults()));
      h.ctx.start();
      await().atMost(WAIT).until(() -> groupOffsets(kafka, group).equals(kafka.endOffsets(topic)));
      h.runBatch();

      assertThat(h.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(groupOffsets(kafka, group)).isEqualTo(kafka.endOffsets(topic));
    assertThat(zooKeeperOffsets(zk, group, topic, 2)).isEmpty();
  }

  private static List<Long> ids(int n) {
    List<Long> ids = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      ids.add(i);
    }
    return ids;
  }
}
