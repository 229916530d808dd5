package io.sluice.examples;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.LongPredicate;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * Per-user sessions with {@code mapWithState} and an idle timeout, written exactly once to
 * PostgreSQL and checked against the same sessions computed in plain Java.
 */
@Command(
    name = "sessions",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Per-user sessions with mapWithState and an idle timeout, Kafka -> PostgreSQL.",
      "Seeded clicks (user, page, time) go to a Kafka topic in rounds, one round per",
      "batch of a manual clock. mapWithState keeps each user's open session; a user",
      "without a click for the timeout (counted in batches) has the session closed by",
      "the timeout call, and closed sessions go to a PostgreSQL table with the batch's",
      "offsets in the same transaction. Idle batches at the end close every session;",
      "midway the pipeline stops and a new one continues from the checkpoint (open",
      "sessions come back from the state). Then the table is checked, session by",
      "session, against the same sessions computed in plain Java."
    })
public final class SessionsCommand implements Callable<Integer> {

  @ParentCommand private Examples parent;

  @Spec private CommandSpec spec;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--users",
      defaultValue = "50",
      description = "Users who click (default: ${DEFAULT-VALUE}).")
  private int users;

  @Option(
      names = "--rounds",
      defaultValue = "60",
      description = "Batches with clicks, one round of clicks each (default: ${DEFAULT-VALUE}).")
  private int rounds;

  @Option(
      names = "--batch-interval",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description =
          "Batch interval on the manual clock, which moves one interval per round (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--timeout",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description =
          "Session timeout, a multiple of the batch interval: a session closes after this long without"
              + " a click of its user (default: ${DEFAULT-VALUE}).")
  private Duration timeout;

  @Option(
      names = "--restart-after",
      defaultValue = "30",
      description =
          "Stop the pipeline after this many batches and start a new one from the checkpoint;"
              + " 0 for no restart (default: ${DEFAULT-VALUE}).")
  private int restartAfter;

  @Option(
      names = "--parallelism",
      defaultValue = "4",
      description = "Task slots and state partitions (default: ${DEFAULT-VALUE}).")
  private int parallelism;

  @Option(
      names = "--topic",
      defaultValue = "clicks",
      description = "Clicks topic, 4 partitions (default: ${DEFAULT-VALUE}).")
  private String topic;

  @Option(
      names = "--group",
      defaultValue = "sessions",
      description =
          "Consumer group, the key of the offsets in the database (default: ${DEFAULT-VALUE}).")
  private String group;

  @Option(
      names = "--table",
      defaultValue = "sessions",
      description = "Sessions table, recreated (default: ${DEFAULT-VALUE}).")
  private String table;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Random seed of the clicks (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Option(
      names = "--batch-timeout",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long one batch may take before the run fails (default: ${DEFAULT-VALUE}).")
  private Duration batchTimeout;

  /** Used by picocli. */
  public SessionsCommand() {}

  /** What one run of the pipeline needs; the same for the run before and after the restart. */
  private record Run(
      String bootstrap,
      DataSource dataSource,
      JdbcOffsetStore store,
      Map<TopicPartition, Long> startOffsets,
      Path checkpointDir,
      Instant start,
      List<List<Click>> rounds,
      KafkaProducer<String, String> producer,
      PrintStream out,
      List<String> problems) {}

  @Override
  public Integer call() throws Exception {
    PrintStream out = parent.out();
    int timeoutBatches = timeoutBatches();
    int batches = rounds + timeoutBatches;
    boolean restart = restartAfter > 0 && restartAfter < batches;
    Check.banner(
        out,
        "Sluice sessions: mapWithState with an idle timeout, Kafka -> PostgreSQL",
        String.format(
            "clicks     %d users, %d rounds -> topic '%s' (4 partitions, keyed by user), round r before batch r",
            users, rounds, topic),
        String.format(
            "pipeline   direct stream (batches of %s, manual clock) -> mapWithState(timeout %s = %d batches)",
            Check.format(batchInterval), Check.format(timeout), timeoutBatches),
        "           -> closed sessions -> JdbcSink INSERT into '"
            + table
            + "' + offsets of group '"
            + group
            + "' in ONE transaction",
        String.format(
            "run        %d batches: %d with clicks, %d idle to close every session%s",
            batches,
            rounds,
            timeoutBatches,
            restart ? "; restart from the checkpoint after batch " + (restartAfter - 1) : ""),
        "verify     every session in PostgreSQL == the sessions computed in plain Java");
    try (Servers servers = new Servers(serverOptions, out)) {
      String bootstrap = servers.bootstrapServers();
      DataSource ds = servers.dataSource();
      JdbcOffsetStore store = OffsetStores.jdbc(ds);
      OrdersRun.requireNewGroup(store, group);
      servers.createTopic(topic, 4);
      Map<TopicPartition, Long> startOffsets = servers.endOffsets(topic);
      Sessions.recreateTable(ds, table);

      long intervalMs = batchInterval.toMillis();
      Instant start =
          Instant.ofEpochMilli(Math.floorDiv(System.currentTimeMillis(), intervalMs) * intervalMs);
      List<List<Click>> clicks =
          ClickGenerator.rounds(seed, users, rounds, timeoutBatches, start, batchInterval);
      List<Session> expected = SessionModel.sessions(clicks, timeoutBatches, start, batchInterval);

      Path checkpointDir = Check.tempDir("sluice-sessions-");
      List<String> problems = new ArrayList<>();
      long t0 = System.nanoTime();
      try (KafkaProducer<String, String> producer = producer(bootstrap)) {
        Run run =
            new Run(
                bootstrap,
                ds,
                store,
                startOffsets,
                checkpointDir,
                start,
                clicks,
                producer,
                out,
                problems);
        if (restart) {
          runBatches(run, 0, restartAfter);
          out.printf(
              "-- stopped after batch %d, with %d sessions open (expected);"
                  + " a new pipeline continues from the checkpoint --%n",
              restartAfter - 1,
              openAfter(expected, SessionModel.batchTime(restartAfter - 1, start, batchInterval)));
          runBatches(run, restartAfter, batches);
        } else {
          runBatches(run, 0, batches);
        }
      } finally {
        Check.deleteTree(checkpointDir);
      }
      out.printf(
          "%nstopped after %d batches in %.1f s: %,d clicks of %d users%n",
          batches, (System.nanoTime() - t0) / 1e9, count(clicks), users);
      out.printf(
          "timeout boundary: %,d gaps of exactly %d batches between a user's clicks (same session),"
              + " %,d of %d (new session)%n",
          SessionModel.gaps(clicks, timeoutBatches),
          timeoutBatches,
          SessionModel.gaps(clicks, timeoutBatches + 1),
          timeoutBatches + 1);
      return verify(out, expected, Sessions.read(ds, table), problems, clicks);
    }
  }

  private int timeoutBatches() {
    if (batchInterval.toMillis() < 10) {
      throw new ParameterException(
          spec.commandLine(), "--batch-interval must be >= 10ms, was " + batchInterval);
    }
    if (timeout.isNegative()
        || timeout.isZero()
        || timeout.toMillis() % batchInterval.toMillis() != 0) {
      throw new ParameterException(
          spec.commandLine(),
          "--timeout must be a positive multiple of --batch-interval ("
              + batchInterval
              + "), was "
              + timeout);
    }
    if (users <= 0 || rounds <= 0 || restartAfter < 0) {
      throw new ParameterException(
          spec.commandLine(),
          "--users and --rounds must be > 0 and --restart-after >= 0, were "
              + users
              + ", "
              + rounds
              + ", "
              + restartAfter);
    }
    return (int) (timeout.toMillis() / batchInterval.toMillis());
  }

  /**
   * Runs batches {@code from} to {@code until - 1} on a new context from the checkpoint: for each,
   * writes its round of clicks, moves the clock one interval and waits for the batch; then stops
   * gracefully.
   */
  private void runBatches(Run run, int from, int until) throws Exception {
    ManualClock clock = new ManualClock(run.start().plus(batchInterval.multipliedBy(from)));
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("sessions")
            .batchInterval(batchInterval)
            .parallelism(parallelism)
            .clock(clock)
            .checkpointDir(run.checkpointDir())
            .exactlyOnce(true)
            .build();
    try {
      DStream<ConsumerRecord<String, String>> records =
          KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic),
                  Map.of(
                      "bootstrap.servers",
                      run.bootstrap(),
                      "group.id",
                      group,
                      "key.deserializer",
                      StringDeserializer.class,
                      "value.deserializer",
                      StringDeserializer.class,
                      "isolation.level",
                      "read_committed")),
              DirectStreamOptions.builder()
                  // A fresh checkpoint starts where the topic ended before the run; after the
                  // restart the committed offsets decide.
                  .startingOffsets(StartingOffsets.specific(run.startOffsets()))
                  .offsetStore(run.store())
                  .build());
      Sessions.closed(records, timeout)
          .writeTo(Sessions.insertInto(table, run.dataSource(), run.store()));
      BatchWaiter waiter = new BatchWaiter();
      ctx.addStreamingListener(waiter);
      ctx.start();
      for (int b = from; b < until; b++) {
        List<Click> round = b < run.rounds().size() ? run.rounds().get(b) : List.of();
        long t0 = System.nanoTime();
        send(run.producer(), round);
        clock.advance(batchInterval);
        BatchInfo batch = waiter.await(b - from + 1L, ctx, batchTimeout);
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        checkAligned(run, b, round, batch);
        // The context's processing time is on the manual clock, which stands still in a batch.
        run.out()
            .printf(
                "sessions batch %4d  clicks %4d  took %4d ms  sessions in PostgreSQL %5d%n",
                batch.batchId(),
                batch.numRecords(),
                tookMs,
                Sessions.count(run.dataSource(), table));
      }
      ctx.stop(true);
      ctx.awaitTermination();
    } finally {
      ctx.stop(false);
    }
  }

  /** The model holds only if batch {@code b} ran at round b's time and read exactly its clicks. */
  private void checkAligned(Run run, int b, List<Click> round, BatchInfo batch) {
    long time = SessionModel.batchTime(b, run.start(), batchInterval);
    if (batch.batchTime().toEpochMilli() != time || batch.numRecords() != round.size()) {
      run.problems()
          .add(
              String.format(
                  "batch %d ran at %s with %d records; round %d expected it at %s with %d",
                  batch.batchId(),
                  batch.batchTime(),
                  batch.numRecords(),
                  b,
                  Instant.ofEpochMilli(time),
                  round.size()));
    }
  }

  /** Writes the clicks, keyed by user, and waits until the broker acknowledged every one. */
  private void send(KafkaProducer<String, String> producer, List<Click> round)
      throws InterruptedException {
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    for (Click c : round) {
      acks.add(producer.send(new ProducerRecord<>(topic, c.user(), c.toJson())));
    }
    producer.flush();
    for (Future<RecordMetadata> ack : acks) {
      try {
        ack.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("could not write a click: " + e.getCause(), e.getCause());
      }
    }
  }

  private static KafkaProducer<String, String> producer(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.CLIENT_ID_CONFIG,
            "sessions-clicks"),
        new StringSerializer(),
        new StringSerializer());
  }

  private int verify(
      PrintStream out,
      List<Session> expected,
      List<Session> actual,
      List<String> problems,
      List<List<Click>> clicks) {
    printLengths(out, expected, actual);
    Set<Session> expectedSet = new HashSet<>(expected);
    Set<Session> actualSet = new HashSet<>(actual);
    List<Session> missing = expected.stream().filter(s -> !actualSet.contains(s)).toList();
    List<Session> unexpected = actual.stream().filter(s -> !expectedSet.contains(s)).toList();
    missing.stream().limit(10).forEach(s -> out.println("   missing in PostgreSQL: " + s));
    unexpected.stream().limit(10).forEach(s -> out.println("   not expected:          " + s));
    problems.forEach(p -> out.println("   " + p));
    boolean same = actual.equals(expected);
    return Check.verdict(
        out,
        same && problems.isEmpty() && !expected.isEmpty(),
        String.format(
            "sessions in PostgreSQL %,d %s expected %,d (%d users, %,d clicks; every session's"
                + " clicks, first/last click, entry/exit page and closing batch %s)%s",
            actual.size(),
            same ? "==" : "!=",
            expected.size(),
            users,
            count(clicks),
            same
                ? "equal"
                : "differ: " + missing.size() + " missing, " + unexpected.size() + " not expected",
            problems.isEmpty()
                ? ""
                : "; " + problems.size() + " batches out of step with the rounds"));
  }

  /** Sessions by length in clicks, expected against PostgreSQL. */
  private static void printLengths(PrintStream out, List<Session> expected, List<Session> actual) {
    Map<String, LongPredicate> buckets = new LinkedHashMap<>();
    buckets.put("1 click", n -> n == 1);
    buckets.put("2-3", n -> n >= 2 && n <= 3);
    buckets.put("4-7", n -> n >= 4 && n <= 7);
    buckets.put("8-15", n -> n >= 8 && n <= 15);
    buckets.put("16+", n -> n >= 16);
    out.printf("   %-10s %10s %10s%n", "length", "expected", "postgresql");
    buckets.forEach(
        (name, p) -> {
          long e = expected.stream().filter(s -> p.test(s.clicks())).count();
          long a = actual.stream().filter(s -> p.test(s.clicks())).count();
          out.printf("   %-10s %,10d %,10d%s%n", name, e, a, e == a ? "" : "   <-- differs");
        });
    out.printf("   %-10s %,10d %,10d%n", "sessions", expected.size(), actual.size());
    out.printf(
        "   %-10s %,10d %,10d%n",
        "clicks",
        expected.stream().mapToLong(Session::clicks).sum(),
        actual.stream().mapToLong(Session::clicks).sum());
  }

  /** Sessions open after the batch at {@code batchMs}: begun at or before it, closed after it. */
  private static long openAfter(List<Session> expected, long batchMs) {
    return expected.stream()
        .filter(s -> s.firstBatchMs() <= batchMs && s.closedBatchMs() > batchMs)
        .count();
  }

  private static long count(List<List<Click>> clicks) {
    return clicks.stream().mapToLong(List::size).sum();
  }
}
