package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.internal.RecoveryAndMemoryTest.RangeInput;
import io.sluice.engine.rdd.RDD;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durable batch log under {@code checkpointDir}, end to end through a context. */
class CheckpointRecoveryTest {

  @TempDir Path dir;

  private StreamingContext context(ManualClock clock, boolean exactlyOnce, Path checkpoint) {
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("checkpointed")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .clock(clock)
            .exactlyOnce(exactlyOnce);
    return (checkpoint == null ? b : b.checkpointDir(checkpoint)).build();
  }

  @Test
  void replaysUncommittedBatchWithSameIdAndRangesAfterARestart() throws Exception {
    Map<Long, List<Long>> firstRun = new ConcurrentHashMap<>();
    StreamingContext first = context(new ManualClock(), false, dir);
    RangeInput in1 = new RangeInput(first);
    in1.foreachBatch(
        (rdd, batch) -> {
          if (batch.id() == 2) {
            throw new IllegalStateException("sink down");
          }
          firstRun.put(batch.id(), rdd.collect());
        });
    first.start();
    ManualClock clock1 = (ManualClock) first.clock();
    clock1.advance(Duration.ofSeconds(3));
    assertThatThrownBy(first::awaitTermination)
        .isInstanceOf(BatchFailedException.class)
        .hasMessageContaining("batch 2");
    assertThat(firstRun).containsOnlyKeys(0L, 1L);

    Map<Long, List<Long>> secondRun = new ConcurrentHashMap<>();
    ManualClock clock2 = new ManualClock(Instant.ofEpochSecond(10));
    StreamingContext second = context(clock2, false, dir);
    RangeInput in2 = new RangeInput(second);
    in2.foreachBatch((rdd, batch) -> secondRun.put(batch.id(), rdd.collect()));
    second.start();
    await().until(() -> secondRun.containsKey(2L));
    clock2.advance(Duration.ofSeconds(1));
    await().until(() -> in2.calls.contains("commit 3"));
    second.stop(true);

    assertThat(in2.calls)
        .filteredOn(c -> !c.startsWith("commit"))
        .startsWith(
            "restore 2 Range[from=20, until=30]",
            "compute 2 Range[from=20, until=30]",
            "plan 3",
            "compute 3 Range[from=30, until=40]");
    assertThat(secondRun.get(2L))
        .containsExactlyElementsOf(LongStream.range(20, 30).boxed().toList());
    assertThat(secondRun.get(3L))
        .containsExactlyElementsOf(LongStream.range(30, 40).boxed().toList());
    assertThat(Files.readAllLines(dir.resolve("commits.log"))).hasSize(4);
  }

  @Test
  void committedBatchesAreNotReplayed() throws Exception {
    StreamingContext first = context(new ManualClock(), false, dir);
    RangeInput in1 = new RangeInput(first);
    in1.foreachBatch((rdd, batch) -> rdd.count());
    first.start();
    ((ManualClock) first.clock()).advance(Duration.ofSeconds(2));
    await().until(() -> in1.calls.contains("commit 1"));
    first.stop(true);

    ManualClock clock2 = new ManualClock(Instant.ofEpochSecond(10));
    StreamingContext second = context(clock2, false, dir);
    RangeInput in2 = new RangeInput(second);
    in2.foreachBatch((rdd, batch) -> rdd.count());
    second.start();
    clock2.advance(Duration.ofSeconds(1));
    await().until(() -> in2.calls.contains("commit 2"));
    second.stop(true);

    assertThat(in2.calls)
        .containsExactly(
            "restore 1 Range[from=10, until=20]",
            "plan 2",
            "compute 2 Range[from=20, until=30]",
            "commit 2");
  }

  @Test
  void exactlyOnceRefusesToStartAndNamesEveryMissingPiece() {
    StreamingContext ctx = context(new ManualClock(), true, null);
    RangeInput in = new RangeInput(ctx);
    in.foreachBatch("audit", (rdd, batch) -> rdd.count());
    in.writeTo(
        new TestOutput(DeliveryGuarantee.AT_LEAST_ONCE, List.of("TestOutput has no offset store")));

    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("requires exactly-once")
        .hasMessageContaining("no checkpointDir")
        .hasMessageContaining("'audit'")
        .hasMessageContaining("only at-least-once")
        .hasMessageContaining("TestOutput has no offset store");
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.INITIALIZED);
  }

  @Test
  void exactlyOnceStartsWhenCheckpointAndOutputsAllowIt() {
    StreamingContext ctx = context(new ManualClock(), true, dir);
    RangeInput in = new RangeInput(ctx);
    in.writeTo(new TestOutput(DeliveryGuarantee.EXACTLY_ONCE, List.of()));
    ctx.start();
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.ACTIVE);
    ctx.stop(false);
  }

  @Test
  void twoOutputsCommittingOffsetsToTheSameTargetAreRefusedEvenWithoutExactlyOnce() {
    StreamingContext ctx = context(new ManualClock(), false, null);
    RangeInput in = new RangeInput(ctx);
    in.writeTo(new TargetOutput("offset store jdbc(db)"));
    in.writeTo(new TargetOutput("offset store jdbc(db)"));

    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "both commit the batch's offsets inside their transactions, to offset store jdbc(db)"
                + " and to offset store jdbc(db) (the same place)");
  }

  @Test
  void twoOutputsCommittingOffsetsToDifferentTargetsAreRefused() {
    StreamingContext ctx = context(new ManualClock(), false, null);
    RangeInput in = new RangeInput(ctx);
    in.writeTo(new TargetOutput("offset store jdbc(db)"));
    in.writeTo(new TargetOutput("kafka groups"));

    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("to offset store jdbc(db) and to kafka groups;");
  }

  @Test
  void anInputKeepingItsProgressElsewhereThanTheCommittingOutputIsRefused() {
    StreamingContext ctx = context(new ManualClock(), false, null);
    RangeInput in = new TargetInput(ctx, "offset store file(/x)");
    in.writeTo(new TargetOutput("offset store jdbc(db)"));

    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "input 'numbers' keeps its offsets in offset store file(/x), but output operation")
        .hasMessageContaining("commits them to offset store jdbc(db) inside its transaction");
  }

  @Test
  void anOutputCommittingTheInputsTargetIsItsOneCommitter() throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext ctx = context(clock, false, null);
    RangeInput in = new TargetInput(ctx, "offset store jdbc(db)");
    TargetOutput output = new TargetOutput("offset store jdbc(db)");
    in.writeTo(output);
    ctx.start();
    assertThat(in.calls)
        .as("told its committer before it starts")
        .startsWith("committedBy " + output.describe(), "start");
    clock.advance(Duration.ofSeconds(2));
    await()
        .until(() -> in.calls.stream().filter(c -> c.startsWith("committedByOutput")).count() == 2);
    ctx.stop(true);

    assertThat(in.calls)
        .filteredOn(c -> c.startsWith("commit") && !c.startsWith("committedBy "))
        .containsExactly("committedByOutput 0", "committedByOutput 1");
  }

  @Test
  void theInputCommitsItselfInTheBatchesWhereItsCommittingOutputHasNoJob() throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext ctx = context(clock, false, null);
    RangeInput in = new TargetInput(ctx, "offset store jdbc(db)");
    in.window(Duration.ofSeconds(2), Duration.ofSeconds(2))
        .writeTo(new TargetOutput("offset store jdbc(db)"));
    ctx.start();
    clock.advance(Duration.ofSeconds(4));
    await()
        .until(
            () ->
                in.calls.stream()
                        .filter(c -> c.startsWith("commit") && !c.startsWith("committedBy "))
                        .count()
                    == 4);
    ctx.stop(true);

    // The window fires at 2 s and 4 s (batches 1 and 3): its output commits those batches'
    // offsets; nobody would commit those of batches 0 and 2 at 1 s and 3 s unless the input does.
    assertThat(in.calls)
        .filteredOn(c -> c.startsWith("commit") && !c.startsWith("committedBy "))
        .containsExactly("commit 0", "committedByOutput 1", "commit 2", "committedByOutput 3");
  }

  @Test
  void aSecondContextOnTheSameCheckpointDirectoryIsRefusedAtOnce() throws Exception {
    StreamingContext first = context(new ManualClock(), false, dir);
    new RangeInput(first).foreachBatch((rdd, batch) -> rdd.count());
    first.start();
    try {
      StreamingContext second = context(new ManualClock(), false, dir);
      new RangeInput(second).foreachBatch((rdd, batch) -> rdd.count());
      assertThatThrownBy(second::start)
          .hasMessageContaining("checkpoint directory " + dir)
          .hasMessageContaining("is already used by a running context");
      assertThat(second.state()).isEqualTo(StreamingContext.State.INITIALIZED);
    } finally {
      first.stop(false);
    }
    // Once the first one stopped, the directory is free again.
    StreamingContext third = context(new ManualClock(), false, dir);
    new RangeInput(third).foreachBatch((rdd, batch) -> rdd.count());
    third.start();
    third.stop(false);
  }

  @Test
  void anUnwritableCheckpointFailsAtStartBeforeAnyBatch() throws Exception {
    // Root may write anywhere, so make the log file a directory: nothing can append to it.
    Files.createDirectories(dir.resolve("batches.log"));
    StreamingContext ctx = context(new ManualClock(), false, dir);
    RangeInput in = new RangeInput(ctx);
    in.foreachBatch((rdd, batch) -> rdd.count());
    assertThatThrownBy(ctx::start)
        .hasMessageContaining("checkpoint file " + dir.resolve("batches.log"))
        .hasMessageContaining("is not writable");
    assertThat(in.calls).isEmpty();

    Path notADirectory = dir.resolve("file");
    Files.writeString(notADirectory, "x");
    StreamingContext other = context(new ManualClock(), false, notADirectory.resolve("checkpoint"));
    new RangeInput(other).foreachBatch((rdd, batch) -> rdd.count());
    assertThatThrownBy(other::start)
        .hasMessageContaining(
            "cannot create checkpoint directory " + notADirectory.resolve("checkpoint"));
  }

  private static final class TargetInput extends RangeInput {
    private final String target;

    TargetInput(StreamingContext ctx, String target) {
      super(ctx);
      this.target = target;
    }

    @Override
    public java.util.Optional<io.sluice.engine.CommitTarget> offsetCommitTarget() {
      return java.util.Optional.of(new io.sluice.engine.CommitTarget(target, target));
    }

    @Override
    public void committedBy(BatchOutput<?> output) {
      calls.add("committedBy " + output.describe());
    }

    @Override
    public void start() {
      calls.add("start");
    }

    @Override
    public void committedByOutput(Batch batch, RecoveryAndMemoryTest.Range plan) {
      calls.add("committedByOutput " + batch.id());
    }
  }

  private record TargetOutput(String target) implements BatchOutput<Long> {
    @Override
    public void write(RDD<Long> rdd, Batch batch) {
      rdd.count();
    }

    @Override
    public DeliveryGuarantee guarantee() {
      return DeliveryGuarantee.EXACTLY_ONCE;
    }

    @Override
    public java.util.Optional<io.sluice.engine.CommitTarget> offsetCommitTarget() {
      return java.util.Optional.of(new io.sluice.engine.CommitTarget(target, target));
    }
  }

  private record TestOutput(DeliveryGuarantee guarantee, List<String> exactlyOnceGaps)
      implements BatchOutput<Long> {
    @Override
    public void write(RDD<Long> rdd, Batch batch) {
      rdd.count();
    }
  }
}
