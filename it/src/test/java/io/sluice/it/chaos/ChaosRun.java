package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedPostgresDatabase;
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
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One pipeline under test: its names, its child JVM runs, how far it got, and the exactly-once
 * check. Kills, restarts and the final check run on the test thread.
 */
final class ChaosRun {

  /** Input partitions. */
  static final int PARTITIONS = 4;

  enum Kind {
    JDBC,
    KAFKA
  }

  private final Kind kind;
  // The --pipeline argument and the class that runs it.
  private final String pipeline;
  private final Class<?> mainClass;
  private final EmbeddedKafka kafka;
  private final EmbeddedPostgresDatabase pg;
  private final String inputTopic;
  private final long n;
  private final String name;
  private final Path dir;
  private final Path log;
  private final List<String> extraArgs = new ArrayList<>();
  private long batchIntervalMs = 100;
  private long maxRatePerPartition = 10_000;

  /** Kill outcomes: where each kill landed. */
  final Map<String, Integer> killPositions = new TreeMap<>();

  /** Runs that ended by themselves (exit code, position), not by a kill. */
  final List<String> selfExits = new ArrayList<>();

  // The time of the store's newest batch when the windows pipeline's input was all committed.
  private long inputCommittedAt = -1;

  int kills;
  int stalls;
  int launches;

  ChaosRun(
      Kind kind,
      EmbeddedKafka kafka,
      EmbeddedPostgresDatabase pg,
      String inputTopic,
      long n,
      String name,
      Path dir) {
    this(
        kind,
        kind == Kind.JDBC ? "jdbc" : "kafka",
        ChaosPipeline.class,
        kafka,
        pg,
        inputTopic,
        n,
        name,
        dir);
  }

  private ChaosRun(
      Kind kind,
      String pipeline,
      Class<?> mainClass,
      EmbeddedKafka kafka,
      EmbeddedPostgresDatabase pg,
      String inputTopic,
      long n,
      String name,
      Path dir) {
    this.kind = kind;
    this.pipeline = pipeline;
    this.mainClass = mainClass;
    this.kafka = kafka;
    this.pg = pg;
    this.inputTopic = inputTopic;
    this.n = n;
    this.name = name;
    this.dir = dir;
    this.log = dir.resolve("pipeline.log");
    try {
      Files.createDirectories(dir.resolve("checkpoint"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (isStateful()) {
      sql(
          (pipeline.equals("windows")
                  ? StatefulChaosPipeline.WINDOWS_DDL
                  : StatefulChaosPipeline.COUNTS_DDL)
              .formatted(table()));
    } else if (kind == Kind.JDBC) {
      sql(
          "CREATE TABLE "
              + table()
              + " (n BIGINT NOT NULL, kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL,"
              + " batch_id BIGINT NOT NULL, run BIGINT NOT NULL)");
    } else {
      kafka.createTopic(outputTopic(), PARTITIONS);
    }
  }

  /**
   * A run of {@link StatefulChaosPipeline} with {@code --pipeline=pipeline} ({@code
   * updateStateByKey}, {@code mapWithState} or {@code windows}), writing to PostgreSQL. Its
   * progress is the input's committed offsets; the test checks its output itself.
   */
  static ChaosRun stateful(
      String pipeline,
      EmbeddedKafka kafka,
      EmbeddedPostgresDatabase pg,
      String inputTopic,
      long n,
      String name,
      Path dir) {
    return new ChaosRun(
        Kind.JDBC, pipeline, StatefulChaosPipeline.class, kafka, pg, inputTopic, n, name, dir);
  }

  private boolean isStateful() {
    return mainClass == StatefulChaosPipeline.class;
  }

  /**
   * Produces {@code n} records numbered 0 .. n-1 (value = key = the number) round-robin over the
   * partitions.
   */
  static void produceInput(EmbeddedKafka kafka, String topic, long n) {
    kafka.createTopic(topic, PARTITIONS);
    int chunk = 50_000;
    for (long from = 0; from < n; from += chunk) {
      List<ProducerRecord<String, String>> records = new ArrayList<>();
      for (long i = from; i < Math.min(n, from + chunk); i++) {
        String v = Long.toString(i);
        records.add(new ProducerRecord<>(topic, (int) (i % PARTITIONS), v, v));
      }
      kafka.produce(records);
    }
    long total = kafka.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    assertThat(total).as("input records in %s", topic).isEqualTo(n);
  }

  ChaosRun rate(long batchIntervalMs, long maxRatePerPartition) {
    this.batchIntervalMs = batchIntervalMs;
    this.maxRatePerPartition = maxRatePerPartition;
    return this;
  }

  ChaosRun arg(String name, Object value) {
    extraArgs.add("--" + name + "=" + value);
    return this;
  }

  Path dir() {
    return dir;
  }

  Path log() {
    return log;
  }

  String appName() {
    return name;
  }

  String table() {
    return name.replace('-', '_');
  }

  String outputTopic() {
    return name + "-out";
  }

  long batchIntervalMs() {
    return batchIntervalMs;
  }

  List<String> args() {
    List<String> a = new ArrayList<>();
    a.add("--pipeline=" + pipeline);
    a.add("--bootstrap=" + kafka.bootstrapServers());
    a.add("--inputTopic=" + inputTopic);
    a.add("--appName=" + name);
    a.add("--checkpointDir=" + dir.resolve("checkpoint"));
    a.add("--batchIntervalMs=" + batchIntervalMs);
    a.add("--maxRatePerPartition=" + maxRatePerPartition);
    if (kind == Kind.JDBC) {
      a.add("--jdbcUrl=" + pg.jdbcUrl());
      a.add("--jdbcUser=" + pg.user());
      a.add("--jdbcPassword=" + pg.password());
      a.add("--table=" + table());
    } else {
      a.add("--outputTopic=" + outputTopic());
    }
    a.addAll(extraArgs);
    return a;
  }

  PipelineProcess launch() {
    launches++;
    return PipelineProcess.start(mainClass, args(), log);
  }

  // ---------------------------------------------------------------- progress

  /**
   * How much output exists: committed rows in PostgreSQL; for Kafka the output topic's end offsets,
   * which also count records of open or aborted transactions, so a threshold on it lands inside
   * transactions.
   */
  long progress() {
    if (isStateful()) {
      return committedInput();
    }
    if (kind == Kind.JDBC) {
      return queryLong("SELECT count(*) FROM " + table());
    }
    return kafka.endOffsets(outputTopic()).values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Brings the stopped pipeline's state to the one a crash leaves right after a batch's output and
   * offsets were committed and before the engine appended its commit record: if the sink's offsets
   * (the store for JDBC, the consumer group's Sluice metadata for Kafka) stand at the commit log's
   * newest batch, that record is removed; if they stand one batch ahead, the kill already left
   * exactly that state. Returns a description of what was found and done.
   */
  String loseNewestCommitRecord() {
    Path commits = dir.resolve("checkpoint").resolve("commits.log");
    try {
      List<String> lines = new ArrayList<>(Files.readAllLines(commits, StandardCharsets.UTF_8));
      while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
        lines.remove(lines.size() - 1);
      }
      assertThat(lines).as("commit records in %s", commits).isNotEmpty();
      String last = lines.get(lines.size() - 1);
      Matcher m = Pattern.compile("\"batchId\":(\\d+)").matcher(last);
      assertThat(m.find()).as("batch id in commit record %s", last).isTrue();
      long logged = Long.parseLong(m.group(1));
      long stored = sinkBatchId();
      if (stored < 0 && kind == Kind.KAFKA) {
        // No Sluice metadata in the group (a plain commit replaced it): every batch so far was
        // full, so the
        // committed offsets tell the batch.
        long perBatch = PARTITIONS * maxRatePerPartition * batchIntervalMs / 1000;
        long committed = committedInput();
        assertThat(committed % perBatch)
            .as("committed %d is a whole number of full batches", committed)
            .isZero();
        stored = committed / perBatch - 1;
      }
      if (stored == logged + 1) {
        return "the kill left batch " + stored + " committed by the sink without a commit record";
      }
      assertThat(stored)
          .as("batch id of the sink's offsets vs the newest commit record %d", logged)
          .isEqualTo(logged);
      lines.remove(lines.size() - 1);
      Files.writeString(
          commits, lines.isEmpty() ? "" : String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
      return "removed the commit record of batch " + logged + ", which the sink had committed";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The batch id the sink committed with its offsets: the JDBC store's, or the consumer group's
   * metadata.
   */
  long sinkBatchId() {
    if (kind == Kind.JDBC) {
      return queryLong(
          "SELECT coalesce(max(last_batch_id), -1) FROM sluice_offset_groups WHERE group_id = '"
              + name
              + "'");
    }
    long last = -1;
    for (OffsetAndMetadata om : kafka.committedOffsets(name).values()) {
      if (om != null) {
        last = Math.max(last, KafkaCommitMetadata.batchId(om.metadata()).orElse(-1));
      }
    }
    return last;
  }

  /**
   * Whether the committed offsets of the pipeline's group reached the end of the input (for the
   * windows pipeline, also every window over it is written).
   */
  boolean complete() {
    if (pipeline.equals("windows")) {
      return committedInput() >= n && windowsCoverInput();
    }
    return committedInput() >= n;
  }

  /**
   * Whether a window was written at least a window's length after the last batch that read records:
   * every window over the input is committed. Call once the input is committed.
   */
  private boolean windowsCoverInput() {
    if (inputCommittedAt < 0) {
      // The store's newest batch once every offset is committed: at or after the last records.
      inputCommittedAt =
          queryLong(
              "SELECT (extract(epoch FROM last_batch_time) * 1000)::bigint"
                  + " FROM sluice_offset_groups WHERE group_id = '"
                  + name
                  + "'");
    }
    long length = StatefulChaosPipeline.WINDOW_BATCHES * batchIntervalMs;
    return queryLong(
            "SELECT count(*) FROM " + table() + " WHERE t >= " + (inputCommittedAt + length))
        > 0;
  }

  long committedInput() {
    if (kind == Kind.JDBC) {
      return queryLong(
          "SELECT coalesce(sum(next_offset), 0) FROM sluice_offsets WHERE group_id = '"
              + name
              + "' AND topic = '"
              + inputTopic
              + "'");
    }
    long sum = 0;
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : kafka.committedOffsets(name).entrySet()) {
      if (e.getKey().topic().equals(inputTopic) && e.getValue() != null) {
        sum += e.getValue().offset();
      }
    }
    return sum;
  }

  // ---------------------------------------------------------------- kills

  /**
   * Starts the pipeline {@code count} times and SIGKILLs each run at a moment chosen by {@code
   * random}: a quarter of the kills after a random delay of up to 4 s from launch (JVM start,
   * recovery, replay, first batches), the others once the output grew past a random threshold, plus
   * a random fraction of a batch interval. The thresholds (which also cut the random delays short)
   * spread the kills over the input.
   */
  void killRepeatedly(int count, Random random) {
    for (int i = 0; i < count; i++) {
      int killsLeft = count - i;
      PipelineProcess p = launch();
      try {
        // Spread the kills over the input still to commit: a run may add at most a random share of
        // it to
        // the output (for Kafka the output also counts records of aborted transactions).
        long room = Math.max(1, (long) (0.8 * Math.max(0, n - committedInput()) / killsLeft));
        long target = progress() + 1 + (long) (random.nextDouble() * room);
        if (random.nextInt(4) == 0) {
          // A random moment from launch: JVM start, recovery, replay or the first batches.
          long delay = 1 + random.nextInt(4000);
          try {
            await()
                .atMost(Duration.ofMillis(delay))
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !p.isAlive() || progress() >= target);
          } catch (ConditionTimeoutException e) {
            // the delay passed first: kill now
          }
        } else {
          try {
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !p.isAlive() || progress() >= target || complete());
          } catch (ConditionTimeoutException e) {
            stalls++;
            System.out.printf(
                "[%s] kill %d: output stalled below %d for 60 s; killing anyway%n",
                name, i, target);
          }
          pause(random.nextInt((int) batchIntervalMs));
        }
        if (!p.isAlive()) {
          selfExits.add("exit " + p.exitValue() + " " + p.position());
          System.out.printf(
              "[%s] run %d ended by itself with %d at %s:%n%s%n",
              name, i, p.exitValue(), p.position(), p.tail(40));
          continue;
        }
        int code = p.kill();
        assertThat(code)
            .as("exit code of SIGKILLed pipeline %d", p.pid())
            .isEqualTo(PipelineProcess.SIGKILL_EXIT);
        kills++;
        killPositions.merge(kindOf(p.position()), 1, Integer::sum);
      } finally {
        p.close();
      }
    }
  }

  private static String kindOf(String position) {
    return position.replaceAll(" \\(?(after )?\\d+\\)?$", "").replaceAll(" \\d+$", "");
  }

  /** Waits {@code millis} without a bare sleep. */
  static void pause(long millis) {
    AtomicBoolean done = new AtomicBoolean(true);
    await()
        .pollDelay(Duration.ofMillis(millis))
        .atMost(Duration.ofMillis(millis + 10_000))
        .untilTrue(done);
  }

  /**
   * Runs the pipeline until its group's committed offsets reach the end of the input, restarting it
   * whenever it exits by itself (at most {@code maxRestarts} times), then kills it. {@code
   * whileRunning} runs once on the test thread after the first launch (e.g. to restart the broker).
   */
  void runToCompletion(Duration timeout, int maxRestarts, Runnable whileRunning) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int restarts = 0;
    Runnable pending = whileRunning;
    while (true) {
      PipelineProcess p = launch();
      try {
        if (pending != null) {
          pending.run();
          pending = null;
        }
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        try {
          await()
              .atMost(Duration.ofMillis(left))
              .pollInterval(Duration.ofMillis(50))
              .until(() -> !p.isAlive() || complete());
        } catch (ConditionTimeoutException e) {
          throw new AssertionError(
              "["
                  + name
                  + "] not complete within "
                  + timeout
                  + ": committed "
                  + committedInput()
                  + " of "
                  + n
                  + ", output "
                  + progress()
                  + "; log tail:\n"
                  + p.tail(60),
              e);
        }
        if (complete()) {
          return;
        }
        selfExits.add("exit " + p.exitValue() + " " + p.position());
        System.out.printf(
            "[%s] run ended by itself with %d at %s; restarting. Tail:%n%s%n",
            name, p.exitValue(), p.position(), p.tail(30));
        if (++restarts > maxRestarts) {
          throw new AssertionError(
              "["
                  + name
                  + "] exited "
                  + restarts
                  + " times without completing; log tail:\n"
                  + p.tail(80));
        }
      } finally {
        p.close();
      }
    }
  }

  // ---------------------------------------------------------------- the check

  /** Asserts that every input record appears exactly once in the output. */
  void assertExactlyOnce() {
    if (isStateful()) {
      throw new IllegalStateException(
          "a stateful pipeline's output is checked by its test, not as a copy of the input");
    }
    if (kind == Kind.JDBC) {
      assertJdbcExactlyOnce();
    } else {
      assertKafkaExactlyOnce();
    }
  }

  private void assertJdbcExactlyOnce() {
    long count = queryLong("SELECT count(*) FROM " + table());
    long distinct = queryLong("SELECT count(DISTINCT n) FROM " + table());
    long inRange =
        queryLong("SELECT count(DISTINCT n) FROM " + table() + " WHERE n >= 0 AND n < " + n);
    List<String> duplicates =
        queryStrings(
            "SELECT n || ' x' || count(*) || ' batches ' || string_agg(batch_id::text"
                + " || '/run ' || run::text, ',') FROM "
                + table()
                + " GROUP BY n HAVING count(*) > 1 ORDER BY n LIMIT 20");
    List<String> missing =
        queryStrings(
            "SELECT g::text FROM generate_series(0, "
                + (n - 1)
                + ") g WHERE NOT EXISTS"
                + " (SELECT 1 FROM "
                + table()
                + " t WHERE t.n = g) ORDER BY g LIMIT 20");
    assertThat(duplicates)
        .as("[%s] duplicated numbers (n xcount batches batch/run)", name)
        .isEmpty();
    assertThat(missing).as("[%s] missing numbers", name).isEmpty();
    assertThat(count).as("[%s] rows", name).isEqualTo(n);
    assertThat(distinct).as("[%s] distinct numbers", name).isEqualTo(n);
    assertThat(inRange).as("[%s] distinct numbers in [0, n)", name).isEqualTo(n);
  }

  private void assertKafkaExactlyOnce() {
    List<ConsumerRecord<String, String>> out = kafka.consumeAll(outputTopic(), true);
    int[] seen = new int[(int) n];
    long duplicateCount = 0;
    List<String> duplicates = new ArrayList<>();
    List<String> strays = new ArrayList<>();
    for (ConsumerRecord<String, String> r : out) {
      long v = Long.parseLong(r.value());
      if (v < 0 || v >= n) {
        strays.add(r.value());
        continue;
      }
      if (++seen[(int) v] > 1) {
        duplicateCount++;
      }
      if (seen[(int) v] == 2 && duplicates.size() < 20) {
        duplicates.add(
            v
                + " (again at "
                + r.partition()
                + "@"
                + r.offset()
                + " batch "
                + header(r, "batch")
                + " run "
                + header(r, "run")
                + ")");
      }
    }
    List<Long> missing = new ArrayList<>();
    long missingCount = 0;
    for (int i = 0; i < n; i++) {
      if (seen[i] == 0 && ++missingCount <= 20) {
        missing.add((long) i);
      }
    }
    assertThat(duplicates)
        .as(
            "[%s] duplicated numbers in the read_committed output (%d extra records of %d; first 20)",
            name, duplicateCount, out.size())
        .isEmpty();
    assertThat(missing)
        .as(
            "[%s] missing numbers in the read_committed output (%d missing; first 20)",
            name, missingCount)
        .isEmpty();
    assertThat(strays).as("[%s] values outside [0, n)", name).isEmpty();
    assertThat(out).as("[%s] read_committed output records", name).hasSize((int) n);
  }

  private static String header(ConsumerRecord<String, String> r, String key) {
    var h = r.headers().lastHeader(key);
    return h == null ? "?" : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** A summary line for the report. */
  String summary() {
    return String.format(
        "[%s] launches=%d kills=%d (all exit 137) positions=%s stalls=%d selfExits=%s",
        name, launches, kills, killPositions, stalls, selfExits);
  }

  // ---------------------------------------------------------------- SQL

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

  private List<String> queryStrings(String query) {
    return Sql.strings(pg.dataSource(), query);
  }
}
