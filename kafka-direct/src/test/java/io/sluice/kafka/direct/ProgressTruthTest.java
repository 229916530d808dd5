package io.sluice.kafka.direct;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.ManualClock;
import io.sluice.kafka.direct.internal.MemoryOffsetStore;
import io.sluice.kafka.direct.internal.TestSupport;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offset store is the one truth for where a stream stands: a checkpoint behind or ahead of it,
 * a lost commit log, a reset while running and a start position that differs from it never
 * duplicate or lose a record, and never need the checkpoint removed by hand.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class ProgressTruthTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  @TempDir Path tmp;

  private int runs;

  /**
   * Each run of a pipeline gets a clock past the previous run's batch times, as real time would be.
   */
  private ManualClock nextClock() {
    return new ManualClock(java.time.Instant.ofEpochSecond(1_000L * ++runs));
  }

  private static List<String> values(String prefix, int from, int until) {
    return IntStream.range(from, until).mapToObj(i -> prefix + "-" + i).toList();
  }

  private StreamHarness harness(
      EmbeddedKafka kafka,
      String topic,
      String group,
      OffsetStore store,
      Path checkpoint,
      StartingOffsets start) {
    StreamHarness h = new StreamHarness(SECOND, false, checkpoint, nextClock());
    DirectStreamOptions.Builder options = DirectStreamOptions.builder();
    if (store != null) {
      options.offsetStore(store);
    }
    if (start != null) {
      options.startingOffsets(start);
    }
    h.record(
        KafkaDirect.createDirectStream(
            h.ctx,
            ConsumerStrategies.<String, String>subscribe(
                List.of(topic), TestSupport.params(kafka, group, false)),
            options.build()));
    h.ctx.start();
    return h;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        if (p.getFileName().toString().equals(".lock")) {
          continue;
        }
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void aCheckpointRestoredFromAnOlderCopyContinuesFromTheStoreWithoutDuplicates(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("truth-restored");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    Path checkpoint = tmp.resolve("checkpoint");
    Path backup = tmp.resolve("backup");
    List<String> seen = new ArrayList<>();
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      kafka.produce(records(topic, 0, "a", 4));
      seen.addAll(h.runBatch().values());
      copyTree(checkpoint, backup);
      kafka.produce(records(topic, 0, "b", 3));
      seen.addAll(h.runBatch().values());
      kafka.produce(records(topic, 0, "c", 2));
      seen.addAll(h.runBatch().values());
    }
    deleteTree(checkpoint);
    copyTree(backup, checkpoint);

    kafka.produce(records(topic, 0, "d", 5));
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      StreamHarness.Seen next = h.runBatch();
      assertThat(next.batchId()).isEqualTo(3);
      assertThat(next.ranges()).containsExactly(new OffsetRange(topic, 0, 9, 14));
      seen.addAll(next.values());
    }
    List<String> expected = new ArrayList<>(values("a", 0, 4));
    expected.addAll(values("b", 0, 3));
    expected.addAll(values("c", 0, 2));
    expected.addAll(values("d", 0, 5));
    assertThat(seen).containsExactlyElementsOf(expected);
    assertThat(store.committed(group)).containsEntry(new TopicPartition(topic, 0), 14L);
  }

  @Test
  void aDeletedCommitLogReplaysOnlyWhatTheStoreDoesNotCover(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("truth-commits");
    kafka.createTopic(topic, 2);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    Path checkpoint = tmp.resolve("checkpoint");
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      kafka.produce(records(topic, 0, "a", 4));
      h.runBatch();
      kafka.produce(records(topic, 1, "b", 3));
      h.runBatch();
    }
    Files.delete(checkpoint.resolve("commits.log"));

    kafka.produce(records(topic, 0, "c", 2));
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      StreamHarness.Seen next = h.runBatch();
      assertThat(next.batchId()).isEqualTo(2);
      assertThat(next.values()).containsExactlyElementsOf(values("c", 0, 2));
    }
    assertThat(store.committed(group))
        .containsEntry(new TopicPartition(topic, 0), 6L)
        .containsEntry(new TopicPartition(topic, 1), 3L);
  }

  @Test
  void anUncommittedBatchIsReplayedWithTheSameIdAndRanges(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("truth-replay");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    Path checkpoint = tmp.resolve("checkpoint");
    StreamHarness first = new StreamHarness(SECOND, false, checkpoint, nextClock());
    try (first) {
      DStreamRef.failing(first, kafka, topic, group, store, 1);
      first.ctx.start();
      kafka.produce(records(topic, 0, "a", 4));
      first.runBatch();
      kafka.produce(records(topic, 0, "b", 3));
      first.failBatch();
    }
    kafka.produce(records(topic, 0, "c", 2));
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      // Batch 1 is replayed by start() itself, before the clock moves.
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> h.completed.get() == 1);
      assertThat(h.seen.get(0).batchId()).isEqualTo(1);
      assertThat(h.seen.get(0).ranges()).containsExactly(new OffsetRange(topic, 0, 4, 7));
      StreamHarness.Seen next = h.runBatch();
      assertThat(next.batchId()).isEqualTo(2);
      assertThat(next.values()).containsExactlyElementsOf(values("c", 0, 2));
    }
  }

  @Test
  void aResetWhileRunningFencesTheDriverAndTheRestartContinuesFromTheReset(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("truth-reset");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    Path checkpoint = tmp.resolve("checkpoint");
    TopicPartition tp = new TopicPartition(topic, 0);
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      kafka.produce(records(topic, 0, "a", 6));
      h.runBatch();
      store.reset(group, Map.of(tp, 2L));
      kafka.produce(records(topic, 0, "b", 2));
      Throwable failure = h.failBatch();
      OffsetFencedException fenced = rootCause(failure, OffsetFencedException.class);
      assertThat(fenced.topicPartition()).isEqualTo(tp);
      assertThat(fenced.fromOffset()).isEqualTo(6);
      assertThat(fenced.storedOffset()).isEqualTo(2);
      assertThat(fenced).hasMessageContaining("another driver or a reset");
    }
    // The reset is not overwritten, and the restart reads from it.
    assertThat(store.committed(group)).containsEntry(tp, 2L);
    try (StreamHarness h = harness(kafka, topic, group, store, checkpoint, null)) {
      StreamHarness.Seen next = h.runBatch();
      assertThat(next.ranges()).containsExactly(new OffsetRange(topic, 0, 2, 8));
      assertThat(next.batchId()).isEqualTo(2);
    }
    assertThat(store.committed(group)).containsEntry(tp, 8L);
  }

  @Test
  void aResetOfTheConsumerGroupWhileRunningFencesTheDriver(EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("truth-group-reset");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    TopicPartition tp = new TopicPartition(topic, 0);
    try (StreamHarness h = harness(kafka, topic, group, null, null, null);
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      kafka.produce(records(topic, 0, "a", 5));
      h.runBatch();
      admin
          .alterConsumerGroupOffsets(group, Map.of(tp, new OffsetAndMetadata(1L)))
          .all()
          .get(30, TimeUnit.SECONDS);
      kafka.produce(records(topic, 0, "b", 2));
      OffsetFencedException fenced = rootCause(h.failBatch(), OffsetFencedException.class);
      assertThat(fenced.fromOffset()).isEqualTo(5);
      assertThat(fenced.storedOffset()).isEqualTo(1);
    }
    assertThat(kafka.committedOffsets(group).get(tp).offset()).isEqualTo(1L);
  }

  @Test
  void aStartPositionThatDiffersFromTheStoreIsRecordedAsAResetOnAFreshCheckpoint(
      EmbeddedKafka kafka) throws Exception {
    String topic = TestSupport.topic("truth-start");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    TopicPartition tp = new TopicPartition(topic, 0);
    kafka.produce(records(topic, 0, "a", 5));
    try (StreamHarness h = harness(kafka, topic, group, store, tmp.resolve("one"), null)) {
      h.runBatch();
    }
    assertThat(store.committed(group)).containsEntry(tp, 5L);

    try (StreamHarness h =
        harness(kafka, topic, group, store, tmp.resolve("two"), StartingOffsets.earliest())) {
      StreamHarness.Seen replayed = h.runBatch();
      assertThat(replayed.values()).containsExactlyElementsOf(values("a", 0, 5));
      assertThat(replayed.batchId()).isEqualTo(2);
    }
    assertThat(store.history(group, 3)).extracting(c -> c.batchId()).containsExactly(2L, 1L, 0L);
    assertThat(store.history(group, 3).get(1).ranges())
        .containsExactly(new OffsetRange(topic, 0, 0, 0));

    // With a checkpoint, the store decides: startingOffsets no longer apply.
    kafka.produce(records(topic, 0, "b", 1));
    try (StreamHarness h =
        harness(kafka, topic, group, store, tmp.resolve("two"), StartingOffsets.earliest())) {
      assertThat(h.runBatch().values()).containsExactly("b-0");
    }
  }

  @Test
  void offsetsSkippedUnderTheDataLossPolicyAreCommittedThroughTheOffsetFence(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("truth-skip");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    TopicPartition tp = new TopicPartition(topic, 0);
    kafka.produce(records(topic, 0, "v", 10));
    Path checkpoint = tmp.resolve("checkpoint");
    StreamHarness h = new StreamHarness(SECOND, false, checkpoint, nextClock());
    try (h) {
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder()
                  .offsetStore(store)
                  .maxRatePerPartition(3)
                  .dataLossPolicy(DataLossPolicy.SKIP)
                  .build()));
      h.ctx.start();
      assertThat(h.runBatch().values()).containsExactlyElementsOf(values("v", 0, 3));
      kafka.deleteRecordsBefore(tp, 7);
      StreamHarness.Seen skipped = h.runBatch();
      assertThat(skipped.ranges()).containsExactly(new OffsetRange(topic, 0, 7, 10));
      assertThat(skipped.values()).containsExactlyElementsOf(values("v", 7, 10));
    }
    assertThat(store.committed(group)).containsEntry(tp, 10L);
    assertThat(store.lastBatchId(group)).hasValue(1);
  }

  @Test
  void anOutputThatCommitsTheOffsetsWithoutDeclaringItIsNamed(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("truth-undeclared");
    kafka.createTopic(topic, 1);
    String group = "g-" + topic;
    MemoryOffsetStore store = new MemoryOffsetStore();
    kafka.produce(records(topic, 0, "v", 3));
    try (StreamHarness h = new StreamHarness(SECOND, false, null, nextClock())) {
      var stream =
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder().offsetStore(store).build());
      stream.foreachBatch(
          (rdd, batch) ->
              store.commit(
                  new io.sluice.offsets.BatchCommit(
                      group,
                      batch.id(),
                      batch.time(),
                      ((io.sluice.offsets.HasOffsetRanges) rdd).offsetRanges())));
      h.ctx.start();
      assertThat(h.failBatch())
          .hasRootCauseInstanceOf(IllegalStateException.class)
          .rootCause()
          .hasMessageContaining(
              "batch 0 of group '"
                  + group
                  + "' is already committed to memory by an"
                  + " output of this context that does not declare it");
    }
  }

  private static <T extends Throwable> T rootCause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the cause chain", t);
  }

  /** A recorded stream whose output fails batch {@code failAt} once. */
  private static final class DStreamRef {
    static void failing(
        StreamHarness h,
        EmbeddedKafka kafka,
        String topic,
        String group,
        OffsetStore store,
        long failAt) {
      var stream =
          KafkaDirect.createDirectStream(
              h.ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic), TestSupport.params(kafka, group, false)),
              DirectStreamOptions.builder().offsetStore(store).build());
      stream.foreachBatch(
          (rdd, batch) -> {
            if (batch.id() == failAt) {
              throw new IllegalStateException("output down");
            }
          });
      h.record(stream);
    }
  }

  @Test
  void theCheckpointLockIsReleasedWhenStartFails(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("truth-lock");
    kafka.createTopic(topic, 1);
    Path checkpoint = tmp.resolve("checkpoint");
    StreamHarness h = new StreamHarness(SECOND, false, checkpoint, nextClock());
    KafkaDirect.createDirectStream(
        h.ctx,
        ConsumerStrategies.<String, String>subscribe(
            List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
        DirectStreamOptions.builder().build());
    // No output operation: start() fails after taking the lock.
    assertThatThrownBy(h.ctx::start).hasMessageContaining("has no output operations");
    try (StreamHarness again = harness(kafka, topic, "g-" + topic, null, checkpoint, null)) {
      kafka.produce(records(topic, 0, "x", 1));
      assertThat(again.runBatch().values()).containsExactly("x-0");
    }
  }
}
