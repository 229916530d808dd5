package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Standby drivers (issue 14): two JVMs run the same Kafka → PostgreSQL pipeline ({@link
 * ChaosPipeline}, the exactly-once JdbcSink with its offsets in the same database), each with its
 * own checkpoint directory and a candidate of one ZooKeeper leader election with a short session
 * timeout; records arrive all along. The test SIGKILLs the leader {@code -Dsluice.it.standbyKills}
 * times (default 10), starting a fresh standby after each kill so that two candidates always run,
 * and checks each time that the waiting standby takes over (the first rows it commits), logging the
 * time from the kill to that commit. At the end every produced record is in the table exactly once.
 */
@ExtendWith({
  EmbeddedKafkaExtension.class,
  EmbeddedPostgresExtension.class,
  EmbeddedZooKeeperExtension.class
})
class StandbyKillTest {

  static final int KILLS = Integer.getInteger("sluice.it.standbyKills", 10);
  static final int PARTITIONS = 4;
  static final long SESSION_TIMEOUT_MS = 4_000;
  static final long BATCH_INTERVAL_MS = 200;

  /** Records produced every 20 ms: 1,000 per second. */
  static final int RECORDS_PER_TICK = 20;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  private EmbeddedKafka kafka;
  private EmbeddedPostgresDatabase pg;
  private EmbeddedZooKeeper zk;
  private int launches;
  private String app;
  private String table;
  private String topic;
  private String leaderPath;
  private final AtomicReference<RuntimeException> producerFailure = new AtomicReference<>();

  @Test
  void aStandbyTakesOverEachKilledLeaderAndEveryRecordIsWrittenOnce(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, EmbeddedZooKeeper zk) throws Exception {
    setUp("standby-kill", kafka, pg, zk);
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf("[%s] seed %d (-Dsluice.it.seed=%d), %d kills%n", app, seed, seed, KILLS);

    List<PipelineProcess> running = new ArrayList<>();
    List<Long> takeoversMs = new ArrayList<>();
    AtomicLong produced = new AtomicLong();
    ScheduledExecutorService producer = startProducer(produced);
    try (CuratorFramework curator =
        CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100))) {
      curator.start();
      running.add(launch());
      running.add(launch());
      PipelineProcess leader = firstLeader(running);
      for (int kill = 0; kill < KILLS; kill++) {
        PipelineProcess standby = running.get(0) == leader ? running.get(1) : running.get(0);
        PipelineProcess current = leader;
        // The leader has committed batches of its own, and the standby waits in the election.
        await("leader " + current.pid() + " commits two batches and the standby joins")
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(20))
            .until(
                () ->
                    !current.isAlive()
                        || !standby.isAlive()
                        || (batchesBy(current) >= 2 && candidates(curator) == 2));
        assertAlive(current, standby);
        ChaosRun.pause(random.nextInt((int) BATCH_INTERVAL_MS));

        long killedAt = System.nanoTime();
        assertThat(current.kill())
            .as("exit code of the SIGKILLed leader %d", current.pid())
            .isEqualTo(PipelineProcess.SIGKILL_EXIT);
        running.remove(current);
        running.add(launch());

        await("standby " + standby.pid() + " commits after leader " + current.pid() + " died")
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(10))
            .until(() -> !standby.isAlive() || rowsBy(standby) > 0);
        long ms = (System.nanoTime() - killedAt) / 1_000_000;
        assertAlive(standby);
        assertThat(standby.output()).contains("LEADER_ELECTED " + standby.pid());
        takeoversMs.add(ms);
        System.out.printf(
            "[%s] kill %d: leader %d killed, standby %d committed its first batch %d ms later%n",
            app, kill + 1, current.pid(), standby.pid(), ms);
        leader = standby;
      }

      long total = drainAndAssertExactlyOnce(producer, produced, leader);
      for (PipelineProcess p : running) {
        assertThat(p.output()).doesNotContain("CHAOS_PIPELINE_FAILED", "LEADER_LOST");
      }
      List<Long> sorted = takeoversMs.stream().sorted().toList();
      System.out.printf(
          "[%s] %d kills, %d records; takeover from kill to the new leader's first commit: min %d"
              + " ms, median %d ms, max %d ms (ZooKeeper session timeout %d ms, batch interval"
              + " %d ms)%n",
          app,
          KILLS,
          total,
          sorted.get(0),
          sorted.get(sorted.size() / 2),
          sorted.get(sorted.size() - 1),
          SESSION_TIMEOUT_MS,
          BATCH_INTERVAL_MS);
      assertThat(sorted)
          .as("takeover times, ms")
          .allSatisfy(ms -> assertThat(ms).isLessThan(SESSION_TIMEOUT_MS + 20_000));
    } catch (AssertionError | RuntimeException e) {
      StringBuilder logs = new StringBuilder();
      for (PipelineProcess p : running) {
        logs.append("\n----- candidate ").append(p.pid()).append(" -----\n").append(p.tail(60));
      }
      throw new AssertionError(e.getMessage() + logs, e);
    } finally {
      producer.shutdownNow();
      for (PipelineProcess p : running) {
        p.close();
      }
    }
  }

  /**
   * The leader freezes (SIGSTOP) for longer than its session: the standby takes over, and when the
   * old leader wakes up it commits nothing more and exits by itself, with the leadership lost (or
   * its commit refused by the offset store, should that come first).
   */
  @Test
  void aFrozenLeaderThatWakesUpAfterATakeoverCommitsNothingAndExits(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, EmbeddedZooKeeper zk) throws Exception {
    setUp("standby-frozen", kafka, pg, zk);
    List<PipelineProcess> running = new ArrayList<>();
    AtomicLong produced = new AtomicLong();
    ScheduledExecutorService producer = startProducer(produced);
    try {
      running.add(launch());
      running.add(launch());
      PipelineProcess leader = firstLeader(running);
      PipelineProcess standby = running.get(0) == leader ? running.get(1) : running.get(0);
      await("leader " + leader.pid() + " commits two batches")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !leader.isAlive() || batchesBy(leader) >= 2);
      assertAlive(leader, standby);

      signal(leader, "STOP");
      await("standby " + standby.pid() + " commits two batches while the leader is frozen")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !standby.isAlive() || batchesBy(standby) >= 2);
      assertAlive(standby);
      long leaderRows = rowsBy(leader);
      signal(leader, "CONT");

      await("the woken leader " + leader.pid() + " exits by itself")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !leader.isAlive());
      assertThat(leader.exitValue()).as("exit code of the woken leader").isEqualTo(1);
      String out = leader.output();
      assertThat(out).contains("CHAOS_PIPELINE_FAILED");
      // Fenced by ZooKeeper (leadership lost), by the offsets, or, when it froze inside the offset
      // commit holding the group's row lock, by PostgreSQL ending its idle session (25P03).
      assertThat(out)
          .containsAnyOf("LeadershipLostException", "OffsetFencedException", "SQLState 25P03");
      System.out.printf(
          "[%s] the woken leader %d exited: %s%n",
          app,
          leader.pid(),
          out.lines().filter(l -> l.startsWith("CHAOS_PIPELINE_FAILED")).findFirst().orElse("?"));
      assertThat(rowsBy(leader)).as("rows of the leader after it woke up").isEqualTo(leaderRows);
      drainAndAssertExactlyOnce(producer, produced, standby);
      assertThat(rowsBy(leader)).as("rows of the old leader").isEqualTo(leaderRows);
    } catch (AssertionError | RuntimeException e) {
      StringBuilder logs = new StringBuilder();
      for (PipelineProcess p : running) {
        logs.append("\n----- candidate ").append(p.pid()).append(" -----\n").append(p.tail(60));
      }
      throw new AssertionError(e.getMessage() + logs, e);
    } finally {
      producer.shutdownNow();
      for (PipelineProcess p : running) {
        p.close();
      }
    }
  }

  /** Sends {@code SIGSTOP} or {@code SIGCONT} to the process. */
  private static void signal(PipelineProcess p, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -%s %d", signal, p.pid()).isZero();
  }

  /**
   * Stops producing, waits until {@code leader} committed every produced record, checks the table
   * holds each exactly once; returns how many were produced.
   */
  private long drainAndAssertExactlyOnce(
      ScheduledExecutorService producer, AtomicLong produced, PipelineProcess leader)
      throws InterruptedException {
    producer.shutdown();
    assertThat(producer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    assertThat(producerFailure.get()).as("producer failure").isNull();
    long total = produced.get();
    await("every produced record committed")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> !leader.isAlive() || committedInput() >= total);
    assertAlive(leader);
    assertExactlyOnce(total);
    return total;
  }

  private void setUp(
      String name, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, EmbeddedZooKeeper zk) {
    this.kafka = kafka;
    this.pg = pg;
    this.zk = zk;
    this.app = name;
    this.table = name.replace('-', '_');
    this.topic = name + "-input";
    this.leaderPath = "/sluice/" + name + "/leader";
    kafka.createTopic(topic, PARTITIONS);
    sql(
        "CREATE TABLE "
            + table
            + " (n BIGINT NOT NULL, kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL,"
            + " batch_id BIGINT NOT NULL, run BIGINT NOT NULL)");
  }

  /** Produces numbered records, value = key = the number, round-robin over the partitions. */
  private ScheduledExecutorService startProducer(AtomicLong produced) {
    ScheduledExecutorService producer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "standby-test-producer");
              t.setDaemon(true);
              return t;
            });
    producer.scheduleAtFixedRate(
        () -> {
          List<ProducerRecord<String, String>> records = new ArrayList<>();
          long from = produced.get();
          for (long i = from; i < from + RECORDS_PER_TICK; i++) {
            String v = Long.toString(i);
            records.add(new ProducerRecord<>(topic, (int) (i % PARTITIONS), v, v));
          }
          try {
            kafka.produce(records);
            produced.addAndGet(RECORDS_PER_TICK);
          } catch (RuntimeException e) {
            producerFailure.compareAndSet(null, e);
            throw e;
          }
        },
        0,
        20,
        TimeUnit.MILLISECONDS);
    return producer;
  }

  private PipelineProcess launch() {
    int i = launches++;
    List<String> args =
        List.of(
            "--pipeline=jdbc",
            "--bootstrap=" + kafka.bootstrapServers(),
            "--inputTopic=" + topic,
            "--appName=" + app,
            "--checkpointDir=" + tmp.resolve("checkpoint-" + i),
            "--batchIntervalMs=" + BATCH_INTERVAL_MS,
            "--jdbcUrl=" + pg.jdbcUrl(),
            "--jdbcUser=" + pg.user(),
            "--jdbcPassword=" + pg.password(),
            "--table=" + table,
            "--zkConnect=" + zk.connectString(),
            "--leaderPath=" + leaderPath,
            "--zkSessionTimeoutMs=" + SESSION_TIMEOUT_MS);
    return PipelineProcess.start(ChaosPipeline.class, args, tmp.resolve("candidate-" + i + ".log"));
  }

  /** The first of the two candidates to commit rows; the other must have none. */
  private PipelineProcess firstLeader(List<PipelineProcess> candidates) {
    await("a first leader commits")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () ->
                candidates.stream().anyMatch(p -> !p.isAlive())
                    || queryLong("SELECT count(*) FROM " + table) > 0);
    assertAlive(candidates.toArray(PipelineProcess[]::new));
    List<Long> runs = new ArrayList<>();
    for (PipelineProcess p : candidates) {
      if (rowsBy(p) > 0) {
        runs.add(p.pid());
      }
    }
    assertThat(runs).as("candidates that committed rows").hasSize(1);
    return candidates.stream().filter(p -> p.pid() == runs.get(0)).findFirst().orElseThrow();
  }

  private static void assertAlive(PipelineProcess... processes) {
    for (PipelineProcess p : processes) {
      assertThat(p.isAlive())
          .as("candidate %d is alive; its log:%n%s", p.pid(), p.isAlive() ? "" : p.tail(60))
          .isTrue();
    }
  }

  private int candidates(CuratorFramework curator) throws Exception {
    try {
      return curator.getChildren().forPath(leaderPath).size();
    } catch (KeeperException.NoNodeException e) {
      return 0;
    }
  }

  private long rowsBy(PipelineProcess p) {
    return queryLong("SELECT count(*) FROM " + table + " WHERE run = " + p.pid());
  }

  private long batchesBy(PipelineProcess p) {
    return queryLong("SELECT count(DISTINCT batch_id) FROM " + table + " WHERE run = " + p.pid());
  }

  private long committedInput() {
    return queryLong(
        "SELECT coalesce(sum(next_offset), 0) FROM sluice_offsets WHERE group_id = '"
            + app
            + "' AND topic = '"
            + topic
            + "'");
  }

  private void assertExactlyOnce(long total) {
    List<String> duplicates =
        queryStrings(
            "SELECT n || ' x' || count(*) || ' runs ' || string_agg(run::text, ',') FROM "
                + table
                + " GROUP BY n HAVING count(*) > 1 ORDER BY n LIMIT 20");
    assertThat(duplicates).as("duplicated numbers (n xcount runs)").isEmpty();
    assertThat(queryLong("SELECT count(*) FROM " + table)).as("rows").isEqualTo(total);
    assertThat(queryLong("SELECT count(DISTINCT n) FROM " + table))
        .as("distinct numbers")
        .isEqualTo(total);
    assertThat(queryLong("SELECT min(n) FROM " + table)).as("smallest number").isEqualTo(0);
    assertThat(queryLong("SELECT max(n) FROM " + table)).as("largest number").isEqualTo(total - 1);
    assertThat(committedInput()).as("committed input offsets").isEqualTo(total);
  }

  private DataSource db() {
    return pg.dataSource();
  }

  private void sql(String statement) {
    try (Connection c = db().getConnection();
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }

  private long queryLong(String query) {
    return Sql.longValue(db(), query);
  }

  private List<String> queryStrings(String query) {
    return Sql.strings(db(), query);
  }
}
