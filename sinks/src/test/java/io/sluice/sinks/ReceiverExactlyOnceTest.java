package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchFailedException;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.receiver.Receiver;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A receiver stream with a write-ahead log into the exactly-once JdbcSink: the sink commits the
 * stream's block numbers with its rows, and a restart continues from there, so a batch the sink
 * committed is never written twice, even when the checkpoint does not know it committed.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class ReceiverExactlyOnceTest {

  private static final AtomicInteger NEXT = new AtomicInteger();

  private final DataSource ds;
  @TempDir Path checkpoint;
  private String table;
  private String app;

  ReceiverExactlyOnceTest(EmbeddedPostgresDatabase db) {
    this.ds = db.dataSource();
  }

  @BeforeEach
  void createTable() throws SQLException {
    int n = NEXT.incrementAndGet();
    table = "received_" + n + "_" + System.nanoTime() % 100_000;
    app = "receiver-eos-" + table;
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      // No key: a batch written twice shows as duplicate rows.
      st.execute("CREATE TABLE " + table + " (line VARCHAR(100) NOT NULL)");
    }
  }

  /** Stores the blocks the test hands it, from the test's thread. */
  static final class HandReceiver extends Receiver<String> {
    @Override
    public void onStart() {}

    @Override
    public void onStop() {}
  }

  private StreamingContext context(long startSecond, HandReceiver receiver, JdbcOffsetStore store) {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .clock(new ManualClock(Instant.ofEpochSecond(startSecond)))
            .checkpointDir(checkpoint)
            .receiverWriteAheadLog(true)
            .exactlyOnce(true)
            .build();
    ctx.receiverStream(receiver)
        .writeTo(
            JdbcSink.<String>builder()
                .dataSource(ds)
                .sql("INSERT INTO " + table + " (line) VALUES (?)")
                .binder((st, line) -> st.setString(1, line))
                .offsetStore(store)
                .build());
    return ctx;
  }

  @Test
  void aBatchTheSinkCommittedIsNotWrittenAgainWhenTheCheckpointLostItsCommitRecord()
      throws Exception {
    JdbcOffsetStore store = OffsetStores.jdbc(ds);
    try {
      HandReceiver r1 = new HandReceiver();
      StreamingContext first = context(0, r1, store);
      first.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !r1.isStopped());
      r1.store(List.of("a0", "a1", "a2"));
      ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 3);
      r1.store(List.of("b0", "b1"));
      r1.store(List.of("b2"));
      ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 6);
      awaitCommitRecords(2);
      first.stop(false);

      // Block numbers committed with the rows, under <app>.sequences.
      TopicPartition sequence = new TopicPartition("receiver:receiver-0", 0);
      assertThat(store.committed(app + ".sequences", List.of(sequence)))
          .isEqualTo(Map.of(sequence, 3L));
      assertThat(store.lastBatchId(app + ".sequences")).hasValue(1L);

      // The state a kill leaves after the sink's commit, before the engine's commit record.
      loseNewestCommitRecord();

      HandReceiver r2 = new HandReceiver();
      StreamingContext second = context(10, r2, store);
      second.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !r2.isStopped());
      r2.store(List.of("c0"));
      ((ManualClock) second.clock()).advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().contains("c0"));
      second.stop(true);

      assertThat(rows()).containsExactlyInAnyOrder("a0", "a1", "a2", "b0", "b1", "b2", "c0");
      assertThat(store.committed(app + ".sequences", List.of(sequence)))
          .isEqualTo(Map.of(sequence, 4L));
    } finally {
      store.close();
    }
  }

  @Test
  void anUncommittedBatchIsReplayedFromTheLogAndCommittedOnce() throws Exception {
    JdbcOffsetStore store = OffsetStores.jdbc(ds);
    try {
      HandReceiver r1 = new HandReceiver();
      StreamingContext first = context(0, r1, store);
      first.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !r1.isStopped());
      r1.store(List.of("a0", "a1"));
      ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 2);
      awaitCommitRecords(1);
      // Batch 1 is planned and logged, but the table refuses its rows: it fails uncommitted.
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "ALTER TABLE " + table + " ADD CONSTRAINT no_b CHECK (line NOT LIKE 'b%') NOT VALID");
      }
      r1.store(List.of("b0", "b1", "b2"));
      ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
      assertThatThrownBy(() -> first.awaitTermination(Duration.ofSeconds(10)))
          .isInstanceOf(BatchFailedException.class)
          .hasMessageContaining("batch 1");
      first.stop(false);
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute("ALTER TABLE " + table + " DROP CONSTRAINT no_b");
      }

      HandReceiver r2 = new HandReceiver();
      StreamingContext second = context(10, r2, store);
      second.start(); // replays batch 1 with its blocks read back from the log
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 5);
      second.stop(true);

      assertThat(rows()).containsExactlyInAnyOrder("a0", "a1", "b0", "b1", "b2");
      TopicPartition sequence = new TopicPartition("receiver:receiver-0", 0);
      assertThat(store.committed(app + ".sequences", List.of(sequence)))
          .isEqualTo(Map.of(sequence, 2L));
      assertThat(store.lastBatchId(app + ".sequences")).hasValue(1L);
    } finally {
      store.close();
    }
  }

  @Test
  void aSinkOverAWindowCommitsTheProgressOfTheBatchesBetweenItsSlides() throws Exception {
    JdbcOffsetStore store = OffsetStores.jdbc(ds);
    try {
      HandReceiver r1 = new HandReceiver();
      StreamingContext first = windowed(0, r1, store);
      ManualClock clock = (ManualClock) first.clock();
      first.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !r1.isStopped());
      // Batches at 1 s (no window job), 2 s (window of batches 0 and 1), 3 s (none), 4 s (window).
      r1.store(List.of("a0"));
      clock.advance(Duration.ofSeconds(1));
      awaitCommitRecords(1);
      assertThat(store.committed(group(), List.of(receiverSequence())))
          .as("batch 0, between slides, committed by the sink alone")
          .isEqualTo(Map.of(receiverSequence(), 1L));
      r1.store(List.of("b0", "b1"));
      clock.advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 3);
      r1.store(List.of("c0"));
      clock.advance(Duration.ofSeconds(1));
      awaitCommitRecords(3);
      first.stop(false);
      assertThat(store.committed(group(), List.of(receiverSequence())))
          .isEqualTo(Map.of(receiverSequence(), 3L));
      assertThat(store.lastBatchId(group())).hasValue(2L);

      HandReceiver r2 = new HandReceiver();
      StreamingContext second = windowed(3, r2, store);
      second.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !r2.isStopped());
      r2.store(List.of("d0"));
      ((ManualClock) second.clock()).advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().contains("d0"));
      second.stop(true);

      // The window at 4 s holds batches 2 and 3: c0 from before the restart, d0 after it.
      assertThat(rows()).containsExactlyInAnyOrder("a0", "b0", "b1", "c0", "d0");
      assertThat(store.committed(group(), List.of(receiverSequence())))
          .isEqualTo(Map.of(receiverSequence(), 4L));
    } finally {
      store.close();
    }
  }

  /**
   * The state a kill left in ReliableReceiverKillTest: every block belongs to a committed batch (so
   * the restart's log remembers none), and the uncommitted batch to replay holds no block. New
   * blocks must still be numbered after the committed position, not from 0.
   */
  @Test
  void afterReplayingAnEmptyBatchNewBlocksAreNumberedAfterTheCommittedPosition() throws Exception {
    JdbcOffsetStore store = OffsetStores.jdbc(ds);
    try {
      HandReceiver r1 = new HandReceiver();
      StreamingContext first = context(0, r1, store);
      first.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !r1.isStopped());
      r1.store(List.of("a0"));
      r1.store(List.of("a1"));
      ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 2);
      awaitCommitRecords(1);
      // Batch 1 is planned with no block and logged, but its commit is refused: it fails
      // uncommitted.
      String check = "no_batch_1_" + table;
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "ALTER TABLE sluice_offset_groups ADD CONSTRAINT "
                + check
                + " CHECK (group_id <> '"
                + app
                + ".sequences' OR last_batch_id < 1) NOT VALID");
      }
      try {
        ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
        assertThatThrownBy(() -> first.awaitTermination(Duration.ofSeconds(10)))
            .isInstanceOf(BatchFailedException.class)
            .hasMessageContaining("batch 1");
        first.stop(false);
      } finally {
        try (Connection c = ds.getConnection();
            Statement st = c.createStatement()) {
          st.execute("ALTER TABLE sluice_offset_groups DROP CONSTRAINT " + check);
        }
      }

      HandReceiver r2 = new HandReceiver();
      StreamingContext second = context(10, r2, store);
      second.start(); // replays the empty batch 1
      await().atMost(Duration.ofSeconds(10)).until(() -> !r2.isStopped());
      r2.store(List.of("b0"));
      ((ManualClock) second.clock()).advance(Duration.ofSeconds(1));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rows().contains("b0") || second.state() == StreamingContext.State.STOPPED);
      // Throws the batch's failure, if any: before the fix, the sink refused block 0.
      assertThat(second.awaitTermination(Duration.ZERO)).as("second run terminated").isFalse();
      second.stop(true);

      assertThat(rows()).containsExactlyInAnyOrder("a0", "a1", "b0");
      TopicPartition sequence = new TopicPartition("receiver:receiver-0", 0);
      assertThat(store.committed(group(), List.of(sequence))).isEqualTo(Map.of(sequence, 3L));
    } finally {
      store.close();
    }
  }

  private StreamingContext windowed(
      long startSecond, HandReceiver receiver, JdbcOffsetStore store) {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .clock(new ManualClock(Instant.ofEpochSecond(startSecond)))
            .checkpointDir(checkpoint)
            .receiverWriteAheadLog(true)
            .exactlyOnce(true)
            .build();
    ctx.receiverStream(receiver)
        .window(Duration.ofSeconds(2), Duration.ofSeconds(2))
        .writeTo(
            JdbcSink.<String>builder()
                .dataSource(ds)
                .sql("INSERT INTO " + table + " (line) VALUES (?)")
                .binder((st, line) -> st.setString(1, line))
                .offsetStore(store)
                .build());
    return ctx;
  }

  private String group() {
    return app + ".sequences";
  }

  private static TopicPartition receiverSequence() {
    return new TopicPartition("receiver:receiver-0", 0);
  }

  private List<String> rows() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT line FROM " + table)) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  private Path commitLog() {
    return checkpoint.resolve("commits.log");
  }

  private void awaitCommitRecords(int n) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(commitLog()) && commitLines().size() >= n);
  }

  private List<String> commitLines() throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(commitLog(), StandardCharsets.UTF_8));
    lines.removeIf(String::isBlank);
    return lines;
  }

  private void loseNewestCommitRecord() throws IOException {
    List<String> lines = commitLines();
    assertThat(lines).isNotEmpty();
    lines.remove(lines.size() - 1);
    Files.write(
        commitLog(), lines.isEmpty() ? new byte[0] : (String.join("\n", lines) + "\n").getBytes());
  }
}
