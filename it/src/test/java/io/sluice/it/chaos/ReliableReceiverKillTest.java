package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.zookeeper.KeeperException;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a {@link ReliableReceiverPipeline} (reliable Kafka receiver, write-ahead log, offsets in
 * ZooKeeper, exactly-once JdbcSink into PostgreSQL) at random moments while records arrive,
 * restarts it each time, then lets a last run drain the topic and stop gracefully. Checks:
 *
 * <ul>
 *   <li>after every run (each ended by a kill), with the pipeline dead, no partition's ZooKeeper
 *       offset is ahead of what the write-ahead log and PostgreSQL hold: offset &le; 1 + the
 *       highest offset of that partition in a table row or in an intact block of the log (the
 *       receiver commits only what the log holds, and the log drops only blocks of batches written
 *       to the table);
 *   <li>every record is in PostgreSQL exactly once, with its topic, partition and offset (the table
 *       has no key, so a record written twice would show);
 *   <li>at the end ZooKeeper's offsets are the topic's end offsets.
 * </ul>
 *
 * {@code -Dsluice.it.receiverKills} sets the kills (default {@code sluice.it.kills}: 20, 200 with
 * the {@code chaos} profile), {@code -Dsluice.it.receiverRecords} the records (default 2,000 per
 * kill, at least 40,000), {@code -Dsluice.it.seed} replays a run.
 */
@ExtendWith({
  EmbeddedKafkaExtension.class,
  EmbeddedPostgresExtension.class,
  EmbeddedZooKeeperExtension.class
})
class ReliableReceiverKillTest {

  static final int KILLS =
      Integer.getInteger("sluice.it.receiverKills", Integer.getInteger("sluice.it.kills", 20));
  static final int N =
      Integer.getInteger("sluice.it.receiverRecords", Math.max(40_000, 2_000 * KILLS));
  static final int PARTITIONS = 4;
  static final long BATCH_INTERVAL_MS = 200;
  static final long MAX_RATE = 5_000;
  static final String APP = "chaos-receiver";
  static final String TOPIC = APP + "-input";
  static final String GROUP = APP + "-rx";

  private static final Pattern BATCH_WITH_RECORDS =
      Pattern.compile("(?m)^BATCH_STARTED \\d+ records=[1-9]");

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  private EmbeddedKafka kafka;
  private EmbeddedPostgresDatabase pg;
  private EmbeddedZooKeeper zooKeeper;
  private CuratorFramework zk;
  private Path logs;
  private Path lastLog;

  // Where each produced record went, by id.
  private final int[] partitionOf = new int[N];
  private final long[] offsetOf = new long[N];
  private int produced;

  private int launches;
  private int kills;
  private int stalls;
  private int walNeeded;
  private int tornTails;
  private long walRecordsSeen;
  private long duplicates = -1;
  private final Map<String, Integer> killPositions = new TreeMap<>();
  private final List<String> selfExits = new ArrayList<>();

  @Test
  void everyRecordIsWrittenOnceAndZooKeeperNeverRunsAheadOfTheLogAcrossRandomKills(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, EmbeddedZooKeeper zooKeeper)
      throws Exception {
    this.kafka = kafka;
    this.pg = pg;
    this.zooKeeper = zooKeeper;
    logs = Files.createDirectories(tmp.resolve("logs"));
    Files.createDirectories(tmp.resolve("checkpoint"));
    sql(
        "CREATE TABLE "
            + table()
            + " (id BIGINT NOT NULL, topic TEXT NOT NULL, kafka_partition INT NOT NULL,"
            + " kafka_offset BIGINT NOT NULL, batch_id BIGINT NOT NULL, run BIGINT NOT NULL)");
    kafka.createTopic(TOPIC, PARTITIONS);
    produce(N / 2);
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    System.out.printf(
        "[%s] seed %d (-Dsluice.it.seed=%d), %d kills, %d records (%d up front, the rest while"
            + " it runs), at most %d records/s%n",
        APP, seed, seed, KILLS, N, N / 2, MAX_RATE);
    Random random = new Random(seed);
    long start = System.nanoTime();
    try (CuratorFramework client = curator(zooKeeper.connectString())) {
      zk = client;
      for (int i = 0; i < KILLS; i++) {
        killOnce(random, i);
      }
      long killed = System.nanoTime();
      produce(N - produced);
      drainAndStop(Duration.ofMinutes(3));
      long drained = System.nanoTime();
      assertZooKeeperNotAheadOfLogAndTable("after the final run");
      assertEveryRecordExactlyOnce();
      assertThat(zooKeeperOffsets())
          .as("ZooKeeper offsets of group %s after the final run", GROUP)
          .isEqualTo(kafka.endOffsets(TOPIC));
      assertThat(selfExits).as("runs that ended by themselves").isEmpty();
      assertThat(kills).as("SIGKILLs").isEqualTo(KILLS);
      assertThat(walRecordsSeen)
          .as("records the checks read from the write-ahead log")
          .isPositive();
      System.out.printf(
          "%s; kill phase %.1f s, final run %.1f s%n",
          summary(), (killed - start) / 1e9, (drained - killed) / 1e9);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(
          e.getMessage()
              + "\n"
              + summary()
              + "\n----- log tail of the last run ("
              + lastLog
              + ") -----\n"
              + PipelineProcess.tail(lastLog, 80),
          e);
    }
  }

  /**
   * One run: produces its share of the records still to produce while it starts, then SIGKILLs it:
   * in a quarter of the runs after a random delay of up to 3 s from launch (JVM start, recovery,
   * replay, the consumer joining); in another quarter as soon as a batch with records has started
   * (mid-batch); in the others once the table grew past a random point within the records waiting,
   * plus a random part of a batch interval. Then checks ZooKeeper against the log and the table.
   */
  private void killOnce(Random random, int i) {
    PipelineProcess p = launch(null);
    try {
      produce((N - N / 2) / KILLS);
      int how = random.nextInt(4);
      if (how == 0) {
        waitWhileAlive(p, Duration.ofMillis(1 + random.nextInt(3000)));
      } else if (how == 1) {
        awaitOrStall(p, () -> BATCH_WITH_RECORDS.matcher(p.output()).find(), 5, i);
      } else {
        long rows = rows();
        long room = Math.max(1, Math.min(produced - rows, (N - rows) / (KILLS - i)));
        long target = rows + 1 + (long) (random.nextDouble() * room);
        awaitOrStall(p, () -> rows() >= target, 20, i);
        waitWhileAlive(p, Duration.ofMillis(random.nextInt((int) BATCH_INTERVAL_MS)));
      }
      if (p.isAlive()) {
        assertThat(p.kill())
            .as("exit code of SIGKILLed pipeline %d", p.pid())
            .isEqualTo(PipelineProcess.SIGKILL_EXIT);
        kills++;
        killPositions.merge(
            p.position().replaceAll(" \\(?(after )?\\d+\\)?$", "").replaceAll(" \\d+$", ""),
            1,
            Integer::sum);
      } else {
        selfExits.add("run " + launches + ": exit " + p.exitValue() + " " + p.position());
      }
    } finally {
      p.close();
    }
    assertZooKeeperNotAheadOfLogAndTable("after run " + launches);
  }

  /** Runs the pipeline until every record is in the table and committed, then stops it. */
  private void drainAndStop(Duration timeout) {
    Path stopFile = tmp.resolve("stop");
    PipelineProcess p = launch(stopFile);
    try {
      Map<TopicPartition, Long> end = kafka.endOffsets(TOPIC);
      try {
        await()
            .atMost(timeout)
            .pollInterval(Duration.ofMillis(100))
            .until(() -> !p.isAlive() || (rows() >= N && zooKeeperOffsets().equals(end)));
      } catch (ConditionTimeoutException e) {
        throw new AssertionError(
            "not drained within "
                + timeout
                + ": "
                + rows()
                + " of "
                + N
                + " rows, ZooKeeper "
                + zooKeeperOffsets()
                + ", end "
                + end,
            e);
      }
      if (!p.isAlive()) {
        selfExits.add("final run: exit " + p.exitValue() + " " + p.position());
        return;
      }
      Files.createFile(stopFile);
      await().atMost(Duration.ofSeconds(60)).until(() -> !p.isAlive());
      assertThat(p.exitValue()).as("exit code of the gracefully stopped pipeline").isZero();
      assertThat(p.output()).contains(ChaosPipeline.STOPPED);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      p.close();
    }
  }

  // ---------------------------------------------------------------- the checks

  /**
   * With no pipeline running: for every partition, the offset committed to ZooKeeper is at most one
   * past the highest offset the table or the write-ahead log holds.
   */
  private void assertZooKeeperNotAheadOfLogAndTable(String when) {
    Map<TopicPartition, Long> committed = zooKeeperOffsets();
    Map<TopicPartition, Long> inTable = maxOffsetsInTable();
    ReceiverWalContents wal =
        ReceiverWalContents.read(
            tmp.resolve("checkpoint")
                .resolve("receivers")
                .resolve(ReliableReceiverPipeline.STREAM)
                .resolve("wal"));
    walRecordsSeen += wal.records();
    if (wal.tornTail()) {
      tornTails++;
    }
    List<String> ahead = new ArrayList<>();
    boolean neededWal = false;
    for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
      long table = inTable.getOrDefault(e.getKey(), -1L);
      long log = wal.maxOffsets().getOrDefault(e.getKey(), -1L);
      if (e.getValue() > 1 + Math.max(table, log)) {
        ahead.add(
            e.getKey()
                + ": ZooKeeper "
                + e.getValue()
                + ", table max "
                + table
                + ", log max "
                + log);
      }
      neededWal |= e.getValue() > 1 + table;
    }
    if (neededWal) {
      walNeeded++;
    }
    assertThat(ahead)
        .as(
            "%s: partitions whose ZooKeeper offset is ahead of the write-ahead log (%d segments,"
                + " %d blocks) and the table",
            when, wal.segments(), wal.blocks())
        .isEmpty();
    assertThat(wal.anomalies()).as("%s: write-ahead log segments", when).isEmpty();
  }

  private void assertEveryRecordExactlyOnce() {
    long[] count = new long[N];
    List<String> wrong = new ArrayList<>();
    long rows = 0;
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT id, topic, kafka_partition, kafka_offset, batch_id, run FROM " + table())) {
      while (rs.next()) {
        rows++;
        long id = rs.getLong(1);
        String where = rs.getString(2) + "-" + rs.getInt(3) + "@" + rs.getLong(4);
        if (id < 0 || id >= N) {
          wrong.add("unknown id " + id + " at " + where);
          continue;
        }
        count[(int) id]++;
        String expected = TOPIC + "-" + partitionOf[(int) id] + "@" + offsetOf[(int) id];
        if (!where.equals(expected) && wrong.size() < 20) {
          wrong.add("id " + id + " at " + where + ", produced to " + expected);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    duplicates = Arrays.stream(count).map(n -> Math.max(0, n - 1)).sum();
    for (int id = 0; id < N && wrong.size() < 20; id++) {
      if (count[id] != 1) {
        wrong.add("id " + id + " x" + count[id] + " " + batchesOf(id));
      }
    }
    assertThat(wrong).as("records not written exactly once where produced").isEmpty();
    assertThat(duplicates).as("rows written more than once").isZero();
    assertThat(Arrays.stream(count).allMatch(n -> n == 1)).as("every id exactly once").isTrue();
    assertThat(rows).as("rows").isEqualTo(N);
  }

  // ---------------------------------------------------------------- helpers

  private PipelineProcess launch(Path stopFile) {
    launches++;
    lastLog = logs.resolve(String.format("run-%03d.log", launches));
    List<String> args = new ArrayList<>();
    args.add("--bootstrap=" + kafka.bootstrapServers());
    args.add("--topic=" + TOPIC);
    args.add("--group=" + GROUP);
    args.add("--zookeeper=" + zooKeeper.connectString());
    args.add("--checkpointDir=" + tmp.resolve("checkpoint"));
    args.add("--appName=" + APP);
    args.add("--jdbcUrl=" + pg.jdbcUrl());
    args.add("--jdbcUser=" + pg.user());
    args.add("--jdbcPassword=" + pg.password());
    args.add("--table=" + table());
    args.add("--batchIntervalMs=" + BATCH_INTERVAL_MS);
    args.add("--maxRate=" + MAX_RATE);
    if (stopFile != null) {
      args.add("--stopFile=" + stopFile);
    }
    return PipelineProcess.start(ReliableReceiverPipeline.class, args, lastLog);
  }

  /** Produces the next {@code count} ids, round-robin over the partitions, value = key = id. */
  private void produce(int count) {
    int from = produced;
    int to = Math.min(N, from + count);
    for (int chunk = from; chunk < to; chunk += 20_000) {
      List<ProducerRecord<String, String>> records = new ArrayList<>();
      for (int id = chunk; id < Math.min(to, chunk + 20_000); id++) {
        String v = Integer.toString(id);
        records.add(new ProducerRecord<>(TOPIC, id % PARTITIONS, v, v));
      }
      List<RecordMetadata> sent = kafka.produce(records);
      for (int k = 0; k < sent.size(); k++) {
        partitionOf[chunk + k] = sent.get(k).partition();
        offsetOf[chunk + k] = sent.get(k).offset();
      }
    }
    produced = to;
  }

  /** Waits up to {@code delay}, less if the process ends. */
  private static void waitWhileAlive(PipelineProcess p, Duration delay) {
    if (delay.isZero()) {
      return;
    }
    try {
      await()
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(10))
          .atMost(delay)
          .until(() -> !p.isAlive());
    } catch (ConditionTimeoutException e) {
      // the delay passed
    }
  }

  private void awaitOrStall(PipelineProcess p, Callable<Boolean> condition, long pollMs, int i) {
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(pollMs))
          .until(() -> !p.isAlive() || condition.call());
    } catch (ConditionTimeoutException e) {
      stalls++;
      System.out.printf("[%s] kill %d: no progress for 60 s; killing anyway%n", APP, i);
    }
  }

  private Map<TopicPartition, Long> zooKeeperOffsets() {
    Map<TopicPartition, Long> out = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      try {
        byte[] data = zk.getData().forPath("/consumers/" + GROUP + "/offsets/" + TOPIC + "/" + p);
        out.put(
            new TopicPartition(TOPIC, p),
            Long.parseLong(new String(data, StandardCharsets.UTF_8).trim()));
      } catch (KeeperException.NoNodeException e) {
        // nothing committed yet
      } catch (Exception e) {
        throw new IllegalStateException("cannot read the ZooKeeper offset of partition " + p, e);
      }
    }
    return out;
  }

  private Map<TopicPartition, Long> maxOffsetsInTable() {
    Map<TopicPartition, Long> out = new HashMap<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT topic, kafka_partition, max(kafka_offset) FROM "
                    + table()
                    + " GROUP BY topic, kafka_partition")) {
      while (rs.next()) {
        out.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private static CuratorFramework curator(String connectString) throws InterruptedException {
    CuratorFramework c = CuratorFrameworkFactory.newClient(connectString, new RetryOneTime(100));
    c.start();
    if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) {
      c.close();
      throw new IllegalStateException("cannot connect to ZooKeeper at " + connectString);
    }
    return c;
  }

  private static String table() {
    return APP.replace('-', '_');
  }

  private long rows() {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table())) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private List<String> batchesOf(int id) {
    List<String> out = new ArrayList<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT batch_id, run FROM " + table() + " WHERE id = " + id)) {
      while (rs.next()) {
        out.add("batch " + rs.getLong(1) + "/run " + rs.getLong(2));
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

  private String summary() {
    return String.format(
        "[%s] launches=%d kills=%d (all exit 137) positions=%s stalls=%d selfExits=%s"
            + " records=%d produced=%d rows=%d duplicates=%d; runs after which ZooKeeper was"
            + " ahead of the table and only the log covered it: %d; torn log tails: %d; log"
            + " records read: %d; restarts that %s",
        APP,
        launches,
        kills,
        killPositions,
        stalls,
        selfExits,
        N,
        produced,
        rowsOrMinusOne(),
        duplicates,
        walNeeded,
        tornTails,
        walRecordsSeen,
        recoveries());
  }

  private long rowsOrMinusOne() {
    try {
      return rows();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** How often the restarts took each recovery path, from the runs' log lines. */
  private Map<String, Integer> recoveries() {
    Map<String, Integer> paths = new TreeMap<>();
    Map<String, String> patterns =
        Map.of(
            "continuing after them and committing them", "continued after blocks not committed",
            "replays planned batches", "replayed planned batches from the log",
            "are not replayed: the inputs' committed progress",
                "dropped batches the sink committed",
            "Cutting a torn record", "cut a torn log record",
            "restarts in", "restarted the receiver");
    try (var files = Files.list(logs)) {
      for (Path log : files.sorted().toList()) {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          patterns.forEach(
              (pattern, path) -> {
                if (line.contains(pattern)) {
                  paths.merge(path, 1, Integer::sum);
                }
              });
        }
      }
    } catch (IOException | UncheckedIOException e) {
      paths.put("(logs unreadable: " + e + ")", 1);
    }
    return paths;
  }
}
