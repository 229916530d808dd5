package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.it.chaos.LineServer.Window;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acknowledged socket source survives SIGKILL without losing a line: a {@link LineServer} sends
 * {@code line-0 .. line-<N-1>} at a steady rate to {@link SocketChaosPipeline} (acknowledged socket
 * stream, receiver write-ahead log, {@code exactlyOnce(true)}, exactly-once JdbcSink with its
 * offset store in the same PostgreSQL), resending after the last acknowledgement on every new
 * connection; the pipeline JVM is killed with SIGKILL at random moments and restarted each time,
 * then left to drain. Every line must be in PostgreSQL; a line may be there twice only if it was
 * sent and not acknowledged when a connection ended (its window), and never more than kills + 1
 * times; lines acknowledged before a kill are there exactly once, and no batch's rows are written
 * twice (no line with the same batch time in two runs), so the write-ahead log and the sequence
 * commit replay without duplicating.
 *
 * <p>{@code -Dsluice.it.socketKills} sets the kills (default 6; the {@code chaos} profile runs 40),
 * {@code -Dsluice.it.seed} replays a run, {@code -Dsluice.it.socketLines} changes N (default 5,000
 * per kill), sent at 1,500 lines/s.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class SocketKillRestartTest {

  static final int KILLS = Integer.getInteger("sluice.it.socketKills", 6);
  static final long N = Long.getLong("sluice.it.socketLines", 5_000L * KILLS);
  static final long LINES_PER_SECOND = 1_500;
  static final long BATCH_INTERVAL_MS = 200;
  static final String APP = "socket-kill";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  /** What each kill left: where it landed, and the unacknowledged windows it ended. */
  private final List<String> killReport = new ArrayList<>();

  private final List<String> selfExits = new ArrayList<>();
  private final Map<String, Integer> positions = new TreeMap<>();
  private int kills;

  @Test
  void everyLineArrivesAndOnlyUnacknowledgedLinesAreDuplicatedAcrossRandomKills(
      EmbeddedPostgresDatabase pg) throws Exception {
    DataSource ds = pg.dataSource();
    String table = "socket_kill_" + System.nanoTime() % 1_000_000;
    Sql.execute(
        ds,
        "CREATE TABLE "
            + table
            + " (n BIGINT NOT NULL, batch_time BIGINT NOT NULL, run BIGINT NOT NULL)");
    Path checkpoint = Files.createDirectories(tmp.resolve("checkpoint"));
    Path log = tmp.resolve("pipeline.log");
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf(
        "[%s] seed %d (-Dsluice.it.seed=%d), %d kills, N=%d, %d lines/s%n",
        APP, seed, seed, KILLS, N, LINES_PER_SECOND);
    long start = System.nanoTime();

    try (LineServer server = new LineServer(N, LINES_PER_SECOND)) {
      List<String> args =
          List.of(
              "--port=" + server.port(),
              "--checkpointDir=" + checkpoint,
              "--appName=" + APP + "-" + table,
              "--jdbcUrl=" + pg.jdbcUrl(),
              "--jdbcUser=" + pg.user(),
              "--jdbcPassword=" + pg.password(),
              "--table=" + table,
              "--batchIntervalMs=" + BATCH_INTERVAL_MS,
              "--blockIntervalMs=50",
              "--maxBlockLines=200");
      try {
        for (int i = 0; i < KILLS; i++) {
          killOnce(i, server, args, log, random);
        }
        long killed = System.nanoTime();
        drain(server, ds, APP + "-" + table, args, log);
        System.out.printf(
            "[%s] kill phase %.1f s, drain %.1f s%n",
            APP, (killed - start) / 1e9, (System.nanoTime() - killed) / 1e9);
        check(ds, table, server);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(
            e.getMessage()
                + "\n"
                + summary(server)
                + "\n----- pipeline log tail ("
                + log
                + ") -----\n"
                + PipelineProcess.tail(log, 80),
            e);
      }
    }
  }

  /**
   * Launches the pipeline and SIGKILLs it: a quarter of the time after a random delay of up to 4 s
   * from launch (JVM start, recovery, replay); otherwise once its connection has acknowledged a
   * block, plus up to 1.5 s, and for a third of those right when the next acknowledgement arrives
   * (the receiver is then just past an acknowledgement, or between a store and the next). Then
   * waits until the server saw the connection end.
   */
  private void killOnce(int i, LineServer server, List<String> args, Path log, Random random)
      throws InterruptedException {
    int connectionsBefore = server.connections();
    int windowsBefore = server.windows().size();
    try (PipelineProcess p = PipelineProcess.start(SocketChaosPipeline.class, args, log)) {
      int mode = random.nextInt(4);
      if (mode == 0) {
        ChaosRun.pause(1 + random.nextInt(4_000));
      } else {
        try {
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(10))
              .until(() -> !p.isAlive() || server.acknowledgedSince(connectionsBefore));
        } catch (ConditionTimeoutException e) {
          System.out.printf(
              "[%s] kill %d: no acknowledgement within 60 s; killing anyway%n", APP, i);
        }
        ChaosRun.pause(random.nextInt(1_500));
        if (mode == 1) {
          server.awaitAcknowledgementAfter(server.acknowledgements(), Duration.ofSeconds(5));
        }
      }
      if (!p.isAlive()) {
        selfExits.add("run " + i + ": exit " + p.exitValue() + " " + p.position());
        return;
      }
      long ackedAtKill = server.ackedUpTo();
      int code = p.kill();
      assertThat(code)
          .as("exit code of SIGKILLed pipeline %d", p.pid())
          .isEqualTo(PipelineProcess.SIGKILL_EXIT);
      kills++;
      positions.merge(p.position().replaceAll(" \\(?(after )?\\d+\\)?$", ""), 1, Integer::sum);
      await().atMost(Duration.ofSeconds(20)).until(server::idle);
      List<Window> ended = server.windows().subList(windowsBefore, server.windows().size());
      killReport.add(
          String.format(
              "kill %d at %s, acked up to %d: windows %s", i, p.position(), ackedAtKill, ended));
    }
  }

  /**
   * Runs the pipeline until every line is acknowledged and a batch planned after that committed (so
   * every block in its write-ahead log is written), then kills it.
   */
  private void drain(LineServer server, DataSource ds, String app, List<String> args, Path log) {
    try (PipelineProcess p = PipelineProcess.start(SocketChaosPipeline.class, args, log)) {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> !p.isAlive() || server.ackedUpTo() >= N);
      assertThat(p.isAlive()).as("the draining run is alive: %s", p.position()).isTrue();
      long allAcked = System.currentTimeMillis();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> !p.isAlive() || lastBatchTime(ds, app) >= allAcked + 2 * BATCH_INTERVAL_MS);
      assertThat(p.isAlive()).as("the draining run is alive: %s", p.position()).isTrue();
    }
  }

  private void check(DataSource ds, String table, LineServer server) {
    assertThat(server.violations()).as("protocol violations seen by the sender").isEmpty();
    assertThat(selfExits).as("runs that ended by themselves").isEmpty();
    assertThat(kills).as("kills").isEqualTo(KILLS);

    List<String> missing =
        Sql.strings(
            ds,
            "SELECT g::text FROM generate_series(0, "
                + (N - 1)
                + ") g WHERE NOT EXISTS (SELECT 1 FROM "
                + table
                + " t WHERE t.n = g) ORDER BY g LIMIT 20");
    assertThat(missing).as("missing lines (first 20)").isEmpty();
    assertThat(longValue(ds, "SELECT count(*) FROM " + table + " WHERE n < 0 OR n >= " + N))
        .as("rows outside [0, N)")
        .isZero();

    // A batch's rows are written once: no line has the same batch time in two runs (a batch
    // replayed after a kill and written again would). One run may hold a line twice in one batch:
    // a block stored and killed before its ACK reached the sender is recovered from the
    // write-ahead log into the first batch, next to the sender's resend; the window check below
    // covers those.
    List<String> batchTwice =
        Sql.strings(
            ds,
            "SELECT n || ' batch ' || batch_time || ' runs ' || count(DISTINCT run) FROM "
                + table
                + " GROUP BY n, batch_time HAVING count(DISTINCT run) > 1 ORDER BY n LIMIT 20");
    assertThat(batchTwice).as("lines written by one batch in two runs (first 20)").isEmpty();

    Map<Long, Long> duplicated = new TreeMap<>();
    for (String row :
        Sql.strings(
            ds, "SELECT n || ' ' || count(*) FROM " + table + " GROUP BY n HAVING count(*) > 1")) {
      String[] parts = row.split(" ");
      duplicated.put(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    }
    List<Window> windows = server.windows();
    List<String> outside = new ArrayList<>();
    List<String> tooMany = new ArrayList<>();
    duplicated.forEach(
        (n, count) -> {
          if (windows.stream().noneMatch(w -> w.contains(n)) && outside.size() < 20) {
            outside.add(n + " x" + count);
          }
          if (count > kills + 1 && tooMany.size() < 20) {
            tooMany.add(n + " x" + count);
          }
        });
    assertThat(outside)
        .as(
            "duplicated lines outside every unacknowledged window: acknowledged lines written"
                + " twice (first 20)")
        .isEmpty();
    assertThat(tooMany).as("lines written more than kills + 1 = %d times", kills + 1).isEmpty();

    long rows = longValue(ds, "SELECT count(*) FROM " + table);
    long extra = rows - N;
    long inWindows = windows.stream().mapToLong(Window::size).sum();
    System.out.printf(
        "[%s] %d kills %s; %d connections; %d unacknowledged windows holding %d lines;"
            + " %d lines duplicated (%d extra rows of %d)%n",
        APP,
        kills,
        positions,
        server.connections(),
        windows.size(),
        inWindows,
        duplicated.size(),
        extra,
        rows);
    for (Window w : windows) {
      long dups = duplicated.keySet().stream().filter(w::contains).count();
      System.out.printf(
          "[%s]   connection %d: window [%d, %d) of %d lines, %d duplicated%n",
          APP, w.connection(), w.from(), w.until(), w.size(), dups);
    }
    killReport.forEach(r -> System.out.printf("[%s]   %s%n", APP, r));
  }

  private String summary(LineServer server) {
    return String.format(
        "[%s] kills=%d positions=%s selfExits=%s connections=%d ackedUpTo=%d of %d windows=%s",
        APP,
        kills,
        positions,
        selfExits,
        server.connections(),
        server.ackedUpTo(),
        N,
        server.windows());
  }

  // ---------------------------------------------------------------- SQL

  private static long lastBatchTime(DataSource ds, String app) {
    return longValue(
        ds,
        "SELECT coalesce(max((extract(epoch FROM last_batch_time) * 1000)::bigint), -1)"
            + " FROM sluice_offset_groups WHERE group_id = '"
            + app
            + ".sequences'");
  }

  private static long longValue(DataSource ds, String query) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return -1; // the offset store creates its tables on the pipeline's first start
      }
      throw new IllegalStateException(query, e);
    }
  }
}
