package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.KV;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.internal.RecoveryAndMemoryTest.RangeInput;
import io.sluice.engine.rdd.HashPartitioner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * State across restarts: after a stop, a failed batch, a renamed operator, a restored or damaged
 * checkpoint, the state equals what the committed batches imply, or start refuses naming why.
 */
class StateRecoveryTest {

  private static final Duration I = Duration.ofSeconds(1);

  @TempDir Path tmp;

  /** Totals per batch time (seconds) as the output saw them. */
  private final Map<Long, Map<Long, Long>> seen = new ConcurrentHashMap<>();

  private StreamingContext context(ManualClock clock, Path checkpoint, boolean dropOrphans) {
    return StreamingContext.builder()
        .appName("state")
        .batchInterval(I)
        .parallelism(2)
        .clock(clock)
        .checkpointDir(checkpoint)
        .stateSnapshotInterval(3)
        .dropOrphanedState(dropOrphans)
        .build();
  }

  /** Running count of values per (value % 7). */
  private PairDStream<Long, Long> totals(
      StreamingContext ctx, String name, int partitions, int failAtSecond) {
    RangeInput in = new RangeInput(ctx);
    PairDStream<Long, Long> totals =
        in.mapToPair(v -> KV.of(v % 7, 1L))
            .updateStateByKey(
                (List<Long> vs, Optional<Long> s) -> Optional.of(s.orElse(0L) + vs.size()),
                new HashPartitioner(partitions))
            .name(name);
    totals.foreachBatch(
        (rdd, batch) -> {
          if (batch.time().getEpochSecond() == failAtSecond) {
            throw new IllegalStateException("output down at " + failAtSecond + " s");
          }
          Map<Long, Long> m = new TreeMap<>();
          rdd.collect().forEach(kv -> m.put(kv.key(), kv.value()));
          seen.put(batch.time().getEpochSecond(), m);
        });
    return totals;
  }

  /** Runs batches until {@code untilSecond}; a negative failAt never fails. */
  private void run(Path checkpoint, long fromSecond, long untilSecond, String name, int failAt) {
    ManualClock clock = new ManualClock(Instant.ofEpochSecond(fromSecond));
    StreamingContext ctx = context(clock, checkpoint, false);
    totals(ctx, name, 2, failAt);
    ctx.start();
    for (long t = fromSecond + 1; t <= untilSecond; t++) {
      long second = t;
      clock.advance(I);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> seen.containsKey(second) || ctx.state() == StreamingContext.State.STOPPED);
      if (ctx.state() == StreamingContext.State.STOPPED) {
        break;
      }
    }
    ctx.stop(true);
  }

  /** The totals after every batch 1..n of one uninterrupted run. */
  private static Map<Long, Long> expectedAfter(long batches) {
    Map<Long, Long> m = new TreeMap<>();
    for (long v = 0; v < batches * 10; v++) {
      m.merge(v % 7, 1L, Long::sum);
    }
    return m;
  }

  @Test
  void runningTotalsAcrossAStopEqualAnUninterruptedRun() {
    Path checkpoint = tmp.resolve("cp");
    run(checkpoint, 0, 10, "totals", -1);
    run(checkpoint, 10, 20, "totals", -1);

    for (long t = 1; t <= 20; t++) {
      assertThat(seen.get(t)).as("totals after batch at %d s", t).isEqualTo(expectedAfter(t));
    }
  }

  @Test
  void aBatchThatFailedAfterItsStateWasWrittenIsAppliedOnceWhenReplayed() {
    Path checkpoint = tmp.resolve("cp");
    // The output fails at 6 s: the state of that batch is persisted, not committed.
    run(checkpoint, 0, 10, "totals", 6);
    assertThat(seen).containsOnlyKeys(1L, 2L, 3L, 4L, 5L);
    run(checkpoint, 10, 14, "totals", -1);

    assertThat(seen.get(6L)).as("the replayed batch").isEqualTo(expectedAfter(6));
    assertThat(seen.get(11L)).isEqualTo(expectedAfter(7));
    assertThat(seen.get(14L)).isEqualTo(expectedAfter(10));
  }

  @Test
  void batchesPlannedWhileAnEarlierOneRunsAreEachAppliedToTheStateBeforeTheirOutputs() {
    ManualClock clock = new ManualClock(Instant.ofEpochSecond(0));
    StreamingContext ctx = context(clock, tmp.resolve("cp"), false);
    RangeInput in = new RangeInput(ctx);
    PairDStream<Long, Long> totals =
        in.mapToPair(v -> KV.of(v % 7, 1L))
            .updateStateByKey(
                (List<Long> vs, Optional<Long> s) -> Optional.of(s.orElse(0L) + vs.size()),
                new HashPartitioner(2))
            .name("totals");
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    // Reads the state only in the last batch: the state job applies every batch before the
    // outputs, whether an output reads it or not.
    totals.foreachBatch(
        (rdd, batch) -> {
          if (batch.id() == 0) {
            release.await();
          }
          if (batch.time().getEpochSecond() == 4) {
            Map<Long, Long> m = new TreeMap<>();
            rdd.collect().forEach(kv -> m.put(kv.key(), kv.value()));
            seen.put(4L, m);
          }
        });
    ctx.start();
    try {
      // Batches 1..3 are planned while batch 0's output still runs.
      for (int s = 1; s <= 4; s++) {
        clock.advance(I);
      }
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> in.calls.stream().filter(c -> c.startsWith("plan")).count() == 4);
      release.countDown();
      await().atMost(Duration.ofSeconds(20)).until(() -> seen.containsKey(4L));
    } finally {
      release.countDown();
      ctx.stop(false);
    }

    assertThat(seen.get(4L)).as("totals after batches 0..3").isEqualTo(expectedAfter(4));
  }

  @Test
  void aRenamedOperatorIsRefusedNamingItsOrphanedStateUnlessDropped() {
    Path checkpoint = tmp.resolve("cp");
    run(checkpoint, 0, 3, "totals", -1);

    StreamingContext renamed =
        context(new ManualClock(Instant.ofEpochSecond(3)), checkpoint, false);
    totals(renamed, "counts", 2, -1);
    assertThatThrownBy(renamed::start)
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("'totals'")
        .hasMessageContaining("no longer has");

    StreamingContext dropping =
        context(new ManualClock(Instant.ofEpochSecond(3)), checkpoint, true);
    totals(dropping, "counts", 2, -1);
    dropping.start();
    dropping.stop(true);
    assertThat(checkpoint.resolve("state").resolve("totals")).doesNotExist();
  }

  @Test
  void anotherNumberOfStatePartitionsIsRefused() {
    Path checkpoint = tmp.resolve("cp");
    run(checkpoint, 0, 3, "totals", -1);

    StreamingContext ctx = context(new ManualClock(Instant.ofEpochSecond(3)), checkpoint, false);
    totals(ctx, "totals", 3, -1);
    assertThatThrownBy(ctx::start)
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("has 2 partitions, but the application now asks for 3");
  }

  @Test
  void stateRestoredFromAnOlderCopyIsRefusedNamingBothVersions() throws IOException {
    Path checkpoint = tmp.resolve("cp");
    run(checkpoint, 0, 4, "totals", -1);
    Path older = tmp.resolve("state-after-batch-3");
    copyTree(checkpoint.resolve("state"), older);
    run(checkpoint, 4, 8, "totals", -1);
    deleteTree(checkpoint.resolve("state"));
    copyTree(older, checkpoint.resolve("state"));

    StreamingContext ctx = context(new ManualClock(Instant.ofEpochSecond(8)), checkpoint, false);
    totals(ctx, "totals", 2, -1);
    assertThatThrownBy(ctx::start)
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("cannot be brought to batch 7")
        .hasMessageContaining("versions ")
        .hasMessageContaining("..3")
        .hasMessageContaining("behind the inputs' committed progress");
  }

  @Test
  void aFlippedByteInTheNewestSnapshotFallsBackToAnOlderOneAndLosesNothing() throws IOException {
    Path checkpoint = tmp.resolve("cp");
    run(checkpoint, 0, 8, "totals", -1);
    // Snapshots every 3 versions: 6.snapshot is the newest of each partition; 3.snapshot backs it.
    for (int p = 0; p < 2; p++) {
      Path snapshot = checkpoint.resolve("state/totals/" + p + "/6.snapshot");
      byte[] bytes = Files.readAllBytes(snapshot);
      bytes[bytes.length - 1] ^= 0x10;
      Files.write(snapshot, bytes);
    }
    run(checkpoint, 8, 10, "totals", -1);

    assertThat(seen.get(10L)).isEqualTo(expectedAfter(10));
  }

  @Test
  void aTornNewestDeltaIsRefusedNamingTheFile() throws IOException {
    Path checkpoint = tmp.resolve("cp");
    run(checkpoint, 0, 5, "totals", -1);
    Path delta = checkpoint.resolve("state/totals/0/4.delta");
    byte[] bytes = Files.readAllBytes(delta);
    Files.write(delta, java.util.Arrays.copyOf(bytes, bytes.length - 3));

    StreamingContext ctx = context(new ManualClock(Instant.ofEpochSecond(5)), checkpoint, false);
    totals(ctx, "totals", 2, -1);
    assertThatThrownBy(ctx::start)
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("4.delta");
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
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
}
