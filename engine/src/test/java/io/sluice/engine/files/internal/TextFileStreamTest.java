package io.sluice.engine.files.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code StreamingContext.textFileStream}: which lines each batch reads, across restarts too. */
class TextFileStreamTest {

  private static final Duration INTERVAL = Duration.ofSeconds(1);

  @TempDir Path tmp;

  private Path dir;
  private Path staging;
  private Path checkpoint;
  private long mtime = 1_700_000_000_000L;
  private final Map<Long, List<String>> seen = new ConcurrentHashMap<>();
  private final Map<Long, Integer> partitions = new ConcurrentHashMap<>();
  private final List<String> allLines = new CopyOnWriteArrayList<>();
  private volatile long failBatch = -1;

  @BeforeEach
  void directories() throws IOException {
    dir = Files.createDirectories(tmp.resolve("in"));
    staging = Files.createDirectories(tmp.resolve("staging"));
    checkpoint = tmp.resolve("checkpoint");
  }

  @Test
  void eachBatchReadsTheLinesOfTheFilesThatAppearedBeforeItOldestFirst() throws Exception {
    move("a.txt", "a1\na2\r\na3");
    move("c.txt", "c1\n");
    move("b.txt", "b1\rb2\n");
    move("empty.txt", "");
    try (Run run = new Run(0, null)) {
      run.start();
      run.batches(1);
      assertThat(seen.get(0L)).containsExactly("a1", "a2", "a3", "c1", "b1", "b2");
      assertThat(partitions.get(0L)).as("one partition per file").isEqualTo(4);

      long same = mtime += 1000;
      move("y.txt", "y1\n", same);
      move("x.txt", "x1\n\nx3\n", same);
      run.batches(1);
      assertThat(seen.get(1L)).as("same time: by name").containsExactly("x1", "", "x3", "y1");

      run.batches(1);
      assertThat(seen.get(2L)).isEmpty();
      assertThat(partitions.get(2L)).isZero();
    }
  }

  @Test
  void hiddenAndTemporaryNamesAndSubdirectoriesAreIgnoredUntilRenamed() throws Exception {
    move(".hidden", "h\n");
    move("_SUCCESS", "s\n");
    move("part-0.tmp", "p1\np2\n");
    move("part-1._COPYING_", "q\n");
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub").resolve("inner.txt"), "inner\n");
    move("ok.txt", "ok\n");
    try (Run run = new Run(0, null)) {
      run.start();
      run.batches(1);
      assertThat(seen.get(0L)).containsExactly("ok");

      Files.move(dir.resolve("part-0.tmp"), dir.resolve("part-0"), StandardCopyOption.ATOMIC_MOVE);
      run.batches(1);
      assertThat(seen.get(1L)).containsExactly("p1", "p2");
    }
  }

  @Test
  void withACheckpointEachFileIsReadOnceAcrossARestart() throws Exception {
    move("a.txt", "a1\na2\n");
    move("b.txt", "b1\n");
    try (Run first = new Run(0, checkpoint)) {
      first.start();
      first.batches(1);
      first.ctx.stop(true);
    }
    move("c.txt", "c1\n");
    try (Run second = new Run(100, checkpoint)) {
      second.start();
      second.batches(2);
    }
    assertThat(seen.get(0L)).containsExactly("a1", "a2", "b1");
    assertThat(seen.get(1L)).containsExactly("c1");
    assertThat(seen.get(2L)).isEmpty();
  }

  @Test
  void aWindowSpanningARestartReadsTheFilesOfTheCommittedBatchesAgain() throws Exception {
    Map<Long, List<String>> windows = new ConcurrentHashMap<>();
    move("a.txt", "a1\n");
    try (Run first = new Run(0, checkpoint)) {
      first.start();
      first.batches(1);
      first.ctx.stop(true);
    }
    move("b.txt", "b1\n");
    try (Run second = new Run(1, checkpoint)) { // restarted right away: the window reaches back
      second
          .in
          .window(Duration.ofSeconds(2), INTERVAL)
          .foreachBatch("window", (rdd, batch) -> windows.put(batch.id(), rdd.collect()));
      second.start();
      second.batches(1);
    }
    assertThat(windows.get(1L)).containsExactly("a1", "b1");
  }

  @Test
  void withoutACheckpointARestartedContextReadsEveryFileAgain() throws Exception {
    move("a.txt", "a1\n");
    try (Run first = new Run(0, null)) {
      first.start();
      first.batches(1);
    }
    try (Run second = new Run(100, null)) {
      second.start();
      second.batches(1);
    }
    assertThat(allLines).as("the second run read it again").containsExactly("a1", "a1");
  }

  @Test
  void aReplayedBatchReadsExactlyItsFilesAndLaterFilesGoToLaterBatches() throws Exception {
    move("a.txt", "a1\n");
    failBatch = 1;
    try (Run first = new Run(0, checkpoint)) {
      first.start();
      first.batches(1);
      move("b.txt", "b1\nb2\n");
      first.clock.advance(INTERVAL);
      assertThatThrownBy(() -> first.ctx.awaitTermination(Duration.ofSeconds(10)))
          .isInstanceOf(BatchFailedException.class)
          .hasMessageContaining("batch 1");
    }
    failBatch = -1;
    move("c.txt", "c1\n");
    try (Run second = new Run(100, checkpoint)) {
      second.start(); // replays batch 1 by itself
      second.awaitCompleted(1);
      second.batches(1);
    }
    assertThat(seen.get(1L)).containsExactly("b1", "b2");
    assertThat(seen.get(2L)).containsExactly("c1");
  }

  @Test
  void aFileTheLedgerGaveToABatchTheBatchLogNeverGotIsOfferedAgain() throws Exception {
    move("a.txt", "a1\n");
    try (Run first = new Run(0, checkpoint)) {
      Ticker ticker = new Ticker(first.ctx);
      first.start();
      first.batches(1);
      // The file stream plans batch 1 (its ledger takes b.txt), then the next input's plan fails:
      // the batch never reaches the batch log, as when the process dies between the two writes.
      move("b.txt", "b1\n");
      ticker.failPlans = true;
      first.clock.advance(INTERVAL);
      assertThatThrownBy(() -> first.ctx.awaitTermination(Duration.ofSeconds(10)))
          .isInstanceOf(BatchFailedException.class)
          .hasMessageContaining("plan of input 'ticker'");
    }
    Path ledgerDir = checkpoint.resolve("files").resolve("files-0").resolve("ledger");
    try (FileLedger ledger = FileLedger.open("files-0", ledgerDir, new ManualClock())) {
      assertThat(ledger.filesFrom(0))
          .extracting(LedgerEvent.TakenFile::name, LedgerEvent.TakenFile::batchId)
          .containsExactly(tuple("a.txt", 0L), tuple("b.txt", 1L));
    }

    move("c.txt", "c1\n");
    try (Run second = new Run(100, checkpoint)) {
      new Ticker(second.ctx);
      second.start();
      second.batches(1);
      assertThat(second.in.ledger().filesFrom(0))
          .extracting(LedgerEvent.TakenFile::name, LedgerEvent.TakenFile::seq)
          .containsExactly(tuple("a.txt", 0L), tuple("b.txt", 1L), tuple("c.txt", 2L));
    }
    assertThat(seen.get(0L)).containsExactly("a1");
    assertThat(seen.get(1L)).containsExactly("b1", "c1");
  }

  @Test
  void aFileChangedAfterItsBatchWasPlannedFailsTheBatchNamingIt() throws Exception {
    Path a = move("a.txt", "a1\n");
    try (Run run = new Run(0, null)) {
      run.in.foreachBatch(
          "append",
          (rdd, batch) -> {
            Files.writeString(a, "late\n", StandardOpenOption.APPEND);
            rdd.count();
          });
      run.start();
      run.clock.advance(INTERVAL);
      assertThatThrownBy(() -> run.ctx.awaitTermination(Duration.ofSeconds(10)))
          .isInstanceOf(BatchFailedException.class)
          .rootCause()
          .hasMessageContaining("file stream 'files-0': " + a)
          .hasMessageContaining("changed after batch 0 planned it (size 3 -> 8 bytes")
          .hasMessageContaining("not moved into the directory atomically");
    }
  }

  @Test
  void aFileGoneBeforeItsBatchReadItFailsTheBatchNamingIt() throws Exception {
    Path a = move("a.txt", "a1\n");
    try (Run run = new Run(0, null)) {
      run.in.foreachBatch(
          "delete",
          (rdd, batch) -> {
            Files.delete(a);
            rdd.count();
          });
      run.start();
      run.clock.advance(INTERVAL);
      assertThatThrownBy(() -> run.ctx.awaitTermination(Duration.ofSeconds(10)))
          .isInstanceOf(BatchFailedException.class)
          .rootCause()
          .hasMessageContaining(a + " of batch 0 is gone: it was deleted or moved away");
    }
  }

  @Test
  void startFailsNamingADirectoryThatCannotBeRead() throws Exception {
    Path missing = tmp.resolve("missing");
    StreamingContext ctx = builder(0, null).build();
    ctx.textFileStream(missing).foreachRDD(RDD::count);
    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("file stream 'files-0': " + missing + " does not exist");
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.INITIALIZED);

    Path file = Files.writeString(tmp.resolve("plain"), "x");
    StreamingContext other = builder(0, null).build();
    other.textFileStream(file).foreachRDD(RDD::count);
    assertThatThrownBy(other::start).hasMessageContaining(file + " is not a directory");
  }

  @Test
  void committedFilesThatLeftTheDirectoryAreForgottenAndTheirNamesAreNewAgain() throws Exception {
    Path a = move("a.txt", "a1\n");
    move("b.txt", "b1\n");
    try (Run run = new Run(0, checkpoint)) {
      run.start();
      run.batches(1);
      Files.delete(a);
      run.batches(1);
      assertThat(run.in.ledger().holds("a.txt")).as("forgotten once gone").isFalse();
      assertThat(run.in.ledger().holds("b.txt")).as("kept while in the directory").isTrue();

      move("a.txt", "a-again\n");
      run.batches(1);
    }
    assertThat(seen.get(0L)).containsExactly("a1", "b1");
    assertThat(seen.get(1L)).isEmpty();
    assertThat(seen.get(2L)).containsExactly("a-again");

    try (Run restarted = new Run(100, checkpoint)) {
      restarted.start();
      assertThat(restarted.in.ledger().filesFrom(0))
          .extracting(LedgerEvent.TakenFile::name)
          .containsExactly("b.txt", "a.txt");
      assertThat(restarted.in.ledger().logSegments())
          .as("compacted into one snapshot at open")
          .hasSize(1);
    }
  }

  // ---------------------------------------------------------------- helpers

  private StreamingContext.Builder builder(long startSecond, Path checkpointDir) {
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("files")
            .batchInterval(INTERVAL)
            .parallelism(2)
            .clock(new ManualClock(Instant.ofEpochSecond(startSecond)));
    return checkpointDir == null ? b : b.checkpointDir(checkpointDir);
  }

  /** Writes {@code content} in the staging directory, then renames it into the stream's. */
  private Path move(String name, String content) {
    return move(name, content, mtime += 1000);
  }

  private Path move(String name, String content, long modifiedMillis) {
    try {
      Path s = staging.resolve(name);
      Files.writeString(s, content, StandardCharsets.UTF_8);
      Files.setLastModifiedTime(s, FileTime.fromMillis(modifiedMillis));
      return Files.move(s, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One context on a manual clock with the file stream and an output recording every batch. */
  private final class Run implements AutoCloseable {
    final StreamingContext ctx;
    final ManualClock clock;
    final FileInputDStream in;
    final AtomicLong completed = new AtomicLong();
    final AtomicReference<Throwable> failed = new AtomicReference<>();

    Run(long startSecond, Path checkpointDir) {
      ctx = builder(startSecond, checkpointDir).build();
      clock = (ManualClock) ctx.clock();
      DStream<String> lines = ctx.textFileStream(dir);
      in = (FileInputDStream) lines;
      lines.foreachBatch(
          "record",
          (rdd, batch) -> {
            List<String> values = new ArrayList<>(rdd.collect());
            if (batch.id() == failBatch) {
              throw new IllegalStateException("output down (test)");
            }
            partitions.put(batch.id(), rdd.numPartitions());
            seen.put(batch.id(), values);
            allLines.addAll(values);
          });
      ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchCompleted(BatchInfo batch) {
              completed.incrementAndGet();
            }

            @Override
            public void onBatchFailed(BatchInfo batch, Throwable cause) {
              failed.compareAndSet(null, cause);
            }
          });
    }

    void start() {
      ctx.start();
    }

    /** Runs {@code n} batches, one clock step each, waiting for each to complete. */
    void batches(int n) {
      for (int i = 0; i < n; i++) {
        long target = completed.get() + 1;
        clock.advance(INTERVAL);
        awaitCompleted(target);
      }
    }

    void awaitCompleted(long batches) {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> completed.get() >= batches || failed.get() != null);
      if (failed.get() != null) {
        throw new AssertionError("a batch failed", failed.get());
      }
    }

    @Override
    public void close() {
      ctx.stop(false);
    }
  }

  /** A second input whose plan can be made to fail, after the file stream planned its batch. */
  static final class Ticker extends InputDStream<Long, Long> {
    volatile boolean failPlans;

    Ticker(StreamingContext ctx) {
      super(ctx, "ticker", Long.class);
      foreachRDD(RDD::count);
    }

    @Override
    public Long plan(long batchId, Instant batchTime) {
      if (failPlans) {
        throw new IllegalStateException("planner down (test)");
      }
      return batchId;
    }

    @Override
    public RDD<Long> compute(long batchId, Instant batchTime, Long plan) {
      return context().parallelize(List.of(plan), 1);
    }
  }
}
