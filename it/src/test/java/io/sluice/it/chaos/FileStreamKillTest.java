package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moves files into the directory of a {@link FileStreamPipeline} over time while killing its JVM
 * with SIGKILL at random moments (during start and recovery, mid-batch, between batches), restarts
 * it each time, lets a last run read everything, and checks that every line of every file is in
 * PostgreSQL exactly once. {@code -Dsluice.it.fileKills} sets the kills (default 6; the {@code
 * chaos} profile runs 40), {@code -Dsluice.it.seed} replays a run.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class FileStreamKillTest {

  static final int KILLS = Integer.getInteger("sluice.it.fileKills", 6);
  static final int FILES = 8 * KILLS;
  static final int LINES = 4_000;
  static final long BATCH_INTERVAL_MS = 200;
  static final String APP = "chaos-files";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  private EmbeddedPostgresDatabase pg;
  private Path dir;
  private Path staging;
  private Path log;
  private int moved;
  private int launches;
  private int kills;
  private final Map<String, Integer> killPositions = new TreeMap<>();
  private final List<String> selfExits = new ArrayList<>();

  @Test
  void everyLineOfEveryFileIsWrittenExactlyOnceAcrossRandomKills(EmbeddedPostgresDatabase pg)
      throws IOException {
    this.pg = pg;
    dir = Files.createDirectories(tmp.resolve("in"));
    staging = Files.createDirectories(tmp.resolve("staging"));
    log = tmp.resolve("pipeline.log");
    Files.createDirectories(tmp.resolve("checkpoint"));
    sql("CREATE TABLE " + table() + " (line TEXT NOT NULL, batch_id BIGINT NOT NULL, run BIGINT)");
    for (int f = 0; f < FILES; f++) {
      StringBuilder content = new StringBuilder();
      for (int l = 0; l < LINES; l++) {
        content.append(line(f, l)).append('\n');
      }
      Files.writeString(staging.resolve(fileName(f)), content, StandardCharsets.UTF_8);
    }
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    System.out.printf(
        "[%s] seed %d (-Dsluice.it.seed=%d), %d kills, %d files of %d lines%n",
        APP, seed, seed, KILLS, FILES, LINES);
    Random random = new Random(seed);
    long start = System.nanoTime();
    try {
      for (int i = 0; i < KILLS; i++) {
        killOnce(random, KILLS - i);
      }
      long killed = System.nanoTime();
      while (moved < FILES) {
        moveNext();
      }
      runToCompletion(Duration.ofSeconds(90));
      assertEveryLineExactlyOnce();
      assertThat(selfExits).as("runs that ended by themselves").isEmpty();
      assertThat(kills).as("SIGKILLs").isEqualTo(KILLS);
      System.out.printf(
          "%s; kill phase %.1f s, final run %.1f s%n",
          summary(), (killed - start) / 1e9, (System.nanoTime() - killed) / 1e9);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(
          e.getMessage()
              + "\n"
              + summary()
              + "\n----- pipeline log tail ("
              + log
              + ") -----\n"
              + PipelineProcess.tail(log, 80),
          e);
    }
  }

  /**
   * One run: moves its share of the files into the directory, a few at a time, and SIGKILLs the
   * JVM: in a quarter of the runs after a random delay of up to 3 s from launch (JVM start,
   * recovery, replay); in another quarter as soon as a batch has started while lines wait to be
   * written (mid-batch); in the others once the output grew past a random point within the lines
   * moved so far, plus a random part of a batch interval.
   */
  private void killOnce(Random random, int killsLeft) {
    PipelineProcess p = launch();
    try {
      int share = (int) (0.8 * FILES - moved) / killsLeft;
      int how = random.nextInt(4);
      if (how == 0) {
        for (int f = 0; f < share; f++) {
          moveNext();
        }
        ChaosRun.pause(1 + random.nextInt(3000));
      } else {
        for (int f = 0; f < share; f++) {
          ChaosRun.pause(random.nextInt((int) BATCH_INTERVAL_MS));
          moveNext();
        }
        long pending = (long) moved * LINES;
        long rows = rows();
        long target = rows + 1 + (long) (random.nextDouble() * Math.max(0, pending - rows));
        try {
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(how == 1 ? 5 : 20))
              .until(
                  () ->
                      !p.isAlive()
                          || (how == 1
                              ? p.position().startsWith("mid-batch") || rows() >= pending
                              : rows() >= Math.min(target, pending)));
        } catch (ConditionTimeoutException e) {
          System.out.printf("[%s] output stalled below %d for 60 s; killing anyway%n", APP, target);
        }
        if (how > 1) {
          ChaosRun.pause(random.nextInt((int) BATCH_INTERVAL_MS));
        }
      }
      if (!p.isAlive()) {
        selfExits.add("exit " + p.exitValue() + " " + p.position());
        return;
      }
      assertThat(p.kill())
          .as("exit code of SIGKILLed pipeline")
          .isEqualTo(PipelineProcess.SIGKILL_EXIT);
      kills++;
      killPositions.merge(p.position().replaceAll(" \\(?(after )?\\d+\\)?$", ""), 1, Integer::sum);
    } finally {
      p.close();
    }
  }

  /** Runs the pipeline until every file's lines are committed, then kills it. */
  private void runToCompletion(Duration timeout) {
    PipelineProcess p = launch();
    try {
      await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> !p.isAlive() || committedFiles() >= FILES);
      if (!p.isAlive()) {
        selfExits.add("exit " + p.exitValue() + " " + p.position() + " (final run)");
      }
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "not complete within "
              + timeout
              + ": committed "
              + committedFiles()
              + " of "
              + FILES
              + " files, "
              + rows()
              + " rows",
          e);
    } finally {
      p.close();
    }
  }

  private void assertEveryLineExactlyOnce() {
    Map<String, Long> counts = new HashMap<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT line, count(*) FROM " + table() + " GROUP BY line")) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getLong(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    Map<String, Long> expected = new HashMap<>();
    for (int f = 0; f < FILES; f++) {
      for (int l = 0; l < LINES; l++) {
        expected.put(line(f, l), 1L);
      }
    }
    List<String> wrong = new ArrayList<>();
    for (Map.Entry<String, Long> e : expected.entrySet()) {
      long n = counts.getOrDefault(e.getKey(), 0L);
      if (n != 1 && wrong.size() < 20) {
        wrong.add(e.getKey() + " x" + n + " " + batchesOf(e.getKey()));
      }
    }
    assertThat(wrong).as("lines not written exactly once (line xcount batch/run...)").isEmpty();
    assertThat(counts).as("every line once, and nothing else").isEqualTo(expected);
    assertThat(rows()).isEqualTo((long) FILES * LINES);
    assertThat(committedFiles()).as("committed file number").isEqualTo(FILES);
  }

  // ---------------------------------------------------------------- helpers

  private PipelineProcess launch() {
    launches++;
    return PipelineProcess.start(
        FileStreamPipeline.class,
        List.of(
            "--dir=" + dir,
            "--checkpointDir=" + tmp.resolve("checkpoint"),
            "--appName=" + APP,
            "--jdbcUrl=" + pg.jdbcUrl(),
            "--jdbcUser=" + pg.user(),
            "--jdbcPassword=" + pg.password(),
            "--table=" + table(),
            "--batchIntervalMs=" + BATCH_INTERVAL_MS),
        log);
  }

  /** Renames the next file from the staging directory into the stream's, atomically. */
  private void moveNext() {
    String name = fileName(moved);
    try {
      Files.move(staging.resolve(name), dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    moved++;
  }

  private static String fileName(int f) {
    return String.format("part-%03d.txt", f);
  }

  private static String line(int f, int l) {
    return String.format("f%03d:%05d", f, l);
  }

  private static String table() {
    return APP.replace('-', '_');
  }

  private long rows() {
    return queryLong("SELECT count(*) FROM " + table());
  }

  /** The next file number the sink committed for the stream (the files it wrote), 0 for none. */
  private long committedFiles() {
    return queryLong(
        "SELECT coalesce(max(next_offset), 0) FROM sluice_offsets WHERE group_id = '"
            + APP
            + ".sequences' AND topic = 'files:files'");
  }

  private List<String> batchesOf(String line) {
    List<String> out = new ArrayList<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT batch_id, run FROM " + table() + " WHERE line = '" + line + "'")) {
      while (rs.next()) {
        out.add(rs.getLong(1) + "/" + rs.getLong(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private void sql(String statement) {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }

  private long queryLong(String query) {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return 0; // the offset store creates its tables on the pipeline's first start
      }
      throw new IllegalStateException(query, e);
    }
  }

  private String summary() {
    return String.format(
        "[%s] launches=%d kills=%d (all exit 137) positions=%s selfExits=%s moved=%d/%d"
            + " restarts that %s",
        APP, launches, kills, killPositions, selfExits, moved, FILES, recoveries());
  }

  /** How often the restarts took each recovery path, from the stream's log lines. */
  private Map<String, Integer> recoveries() {
    Map<String, Integer> paths = new TreeMap<>();
    Map<String, String> patterns =
        Map.of(
            "replays planned batches", "replayed a planned batch",
            "never recorded", "offered a ledger's batch again",
            "are not replayed", "dropped a batch the sink committed");
    try {
      if (Files.exists(log)) {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          patterns.forEach(
              (pattern, path) -> {
                if (line.contains(pattern)) {
                  paths.merge(path, 1, Integer::sum);
                }
              });
        }
      }
    } catch (IOException e) {
      paths.put("(log unreadable: " + e + ")", 1);
    }
    return paths;
  }
}
