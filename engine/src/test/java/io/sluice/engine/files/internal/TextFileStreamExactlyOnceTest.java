package io.sluice.engine.files.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.ManualClock;
import io.sluice.engine.SequencePosition;
import io.sluice.engine.SequencedPlan;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.rdd.RDD;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory stream behind an output that commits its file numbers with the batch's rows, like
 * the exactly-once JdbcSink: the stream restarts from the output's committed position.
 */
class TextFileStreamExactlyOnceTest {

  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final String SEQUENCE = "files:files-0";

  @TempDir Path tmp;

  private Path dir;
  private Path staging;
  private Path checkpoint;
  private long mtime = 1_700_000_000_000L;
  private final Table table = new Table();

  @BeforeEach
  void directories() throws IOException {
    dir = Files.createDirectories(tmp.resolve("in"));
    staging = Files.createDirectories(tmp.resolve("staging"));
    checkpoint = tmp.resolve("checkpoint");
  }

  @Test
  void anUncommittedBatchBeginningWhereTheOutputStandsIsReplayedWithItsFiles() throws Exception {
    move("a.txt", "a1\na2\n");
    try (Run first = new Run(0)) {
      first.batches(1);
      move("b.txt", "b1\n");
      table.failBeforeCommit = 1;
      first.failNextBatch();
    }
    table.failBeforeCommit = -1;
    move("c.txt", "c1\n");
    try (Run second = new Run(100)) {
      second.awaitCompleted(1); // batch 1 replayed with b.txt only
      second.batches(1);
    }
    assertThat(table.rowsByBatch)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(0L, List.of("a1", "a2"), 1L, List.of("b1"), 2L, List.of("c1")));
    assertThat(table.positions).containsEntry(SEQUENCE, new SequencePosition(2, 3));
  }

  @Test
  void aBatchTheOutputCommittedIsNotReadAgainThoughTheCheckpointMissesItsCommit() throws Exception {
    move("a.txt", "a1\n");
    try (Run first = new Run(0)) {
      first.batches(1);
      move("b.txt", "b1\n");
      table.failAfterCommit = 1; // rows and position committed, the engine sees a failed batch
      first.failNextBatch();
    }
    table.failAfterCommit = -1;
    move("c.txt", "c1\n");
    try (Run second = new Run(100)) {
      second.batches(1);
    }
    assertThat(table.rowsByBatch)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(0L, List.of("a1"), 1L, List.of("b1"), 2L, List.of("c1")));
    assertThat(table.positions).containsEntry(SEQUENCE, new SequencePosition(2, 3));
  }

  @Test
  void whenThePlannedBatchesDoNotBeginAtTheCommittedPositionTheFilesAfterItAreReadAgain()
      throws Exception {
    move("a.txt", "a1\n");
    try (Run first = new Run(0)) {
      first.batches(1);
      move("b.txt", "b1\n");
      table.failBeforeCommit = 1;
      first.failNextBatch();
    }
    table.failBeforeCommit = -1;
    // The database comes back from a copy that disagrees with the checkpoint: its batch 0 stands
    // at file 0, while the checkpoint's batch 1 begins at file 1. The database wins.
    table.restore(Map.of(SEQUENCE, new SequencePosition(0, 0)), Map.of());
    try (Run second = new Run(100)) {
      second.batches(1);
    }
    assertThat(table.rowsByBatch).containsExactly(Map.entry(2L, List.of("a1", "b1")));
    assertThat(table.positions).containsEntry(SEQUENCE, new SequencePosition(2, 2));
  }

  @Test
  void aCommittedPositionAheadOfTheLedgerIsWhereNewFilesAreNumberedFrom() throws Exception {
    move("a.txt", "a1\n");
    try (Run first = new Run(0)) {
      first.batches(1);
    }
    // The checkpoint comes back from an older copy than the database's.
    table.restore(Map.of(SEQUENCE, new SequencePosition(7, 5)), table.rowsByBatch);
    move("b.txt", "b1\n");
    try (Run second = new Run(100)) {
      second.batches(1);
    }
    assertThat(table.rowsByBatch)
        .containsExactlyInAnyOrderEntriesOf(Map.of(0L, List.of("a1"), 8L, List.of("b1")));
    assertThat(table.positions).containsEntry(SEQUENCE, new SequencePosition(8, 6));
  }

  @Test
  void exactlyOnceNeedsTheCheckpointThatMakesTheStreamSequenced() {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("files-eo")
            .batchInterval(INTERVAL)
            .parallelism(2)
            .exactlyOnce(true)
            .build();
    ctx.textFileStream(dir).writeTo(table);
    assertThatThrownBy(ctx::start).hasMessageContaining("no checkpointDir is set");
  }

  // ---------------------------------------------------------------- helpers

  private void move(String name, String content) throws IOException {
    Path s = staging.resolve(name);
    Files.writeString(s, content, StandardCharsets.UTF_8);
    Files.setLastModifiedTime(s, FileTime.fromMillis(mtime += 1000));
    Files.move(s, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  /** An exactly-once context on a manual clock: the file stream written to {@link #table}. */
  private final class Run implements AutoCloseable {
    final StreamingContext ctx;
    final ManualClock clock;
    final AtomicLong completed = new AtomicLong();
    final AtomicReference<Throwable> failed = new AtomicReference<>();

    Run(long startSecond) {
      ctx =
          StreamingContext.builder()
              .appName("files-eo")
              .batchInterval(INTERVAL)
              .parallelism(2)
              .clock(new ManualClock(Instant.ofEpochSecond(startSecond)))
              .checkpointDir(checkpoint)
              .exactlyOnce(true)
              .build();
      clock = (ManualClock) ctx.clock();
      ctx.textFileStream(dir).writeTo(table);
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
      ctx.start();
    }

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

    void failNextBatch() {
      clock.advance(INTERVAL);
      assertThatThrownBy(() -> ctx.awaitTermination(Duration.ofSeconds(10)))
          .isInstanceOf(BatchFailedException.class)
          .hasMessageContaining("injected");
    }

    @Override
    public void close() {
      ctx.stop(false);
    }
  }

  /**
   * A database in memory that commits each batch's lines and its sequenced inputs' positions in one
   * step, fenced like the JDBC offset store: a range must begin at the committed next number.
   */
  private static final class Table implements BatchOutput<String> {
    final Map<String, SequencePosition> positions = new HashMap<>();
    final Map<Long, List<String>> rowsByBatch = new HashMap<>();
    volatile long failBeforeCommit = -1;
    volatile long failAfterCommit = -1;

    @Override
    public void write(RDD<String> rdd, Batch batch) {
      List<String> lines = rdd.collect();
      if (batch.id() == failBeforeCommit) {
        throw new IllegalStateException("injected failure before the commit of " + batch.id());
      }
      synchronized (this) {
        for (Object plan : batch.plans().values()) {
          if (plan instanceof SequencedPlan p) {
            SequencePosition at = positions.get(p.sequence());
            if (at != null && at.next() != p.from()) {
              throw new IllegalStateException(
                  "fenced: " + p.sequence() + " stands at " + at.next() + ", not " + p.from());
            }
            positions.put(p.sequence(), new SequencePosition(batch.id(), p.until()));
          }
        }
        rowsByBatch.merge(
            batch.id(),
            lines,
            (x, y) -> {
              throw new IllegalStateException("batch " + batch.id() + " written twice");
            });
      }
      if (batch.id() == failAfterCommit) {
        throw new IllegalStateException("injected failure after the commit of " + batch.id());
      }
    }

    synchronized void restore(
        Map<String, SequencePosition> positions, Map<Long, List<String>> rows) {
      Map<Long, List<String>> copy = new HashMap<>(rows);
      this.positions.clear();
      this.positions.putAll(positions);
      rowsByBatch.clear();
      rowsByBatch.putAll(copy);
    }

    @Override
    public DeliveryGuarantee guarantee() {
      return DeliveryGuarantee.EXACTLY_ONCE;
    }

    @Override
    public Optional<CommitTarget> offsetCommitTarget() {
      return Optional.of(new CommitTarget(this, "test table"));
    }

    @Override
    public boolean commitsSequences() {
      return true;
    }

    @Override
    public synchronized Optional<SequencePosition> committedSequence(String sequence) {
      return Optional.ofNullable(positions.get(sequence));
    }
  }
}
