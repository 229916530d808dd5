package io.sluice.bench;

import io.sluice.examples.CountingMember;
import io.sluice.examples.MemberProcess;
import io.sluice.examples.MemberProcess.BatchLine;
import io.sluice.examples.NumberedProducer;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The rebalance pause of group mode, for a stateless and a stateful pipeline in member processes
 * (child JVMs) under a steady input, while (a) a member joins, (b) a member leaves gracefully
 * ({@code ctx.stop(true)}) and (c) a member is killed with SIGKILL.
 *
 * <ul>
 *   <li>{@code --pipeline stateless}: {@link io.sluice.examples.ScaleOutMember}, a group-mode
 *       direct stream copied by the exactly-once {@code KafkaSink}. A run ends with the output's
 *       read_committed record count equal to the produced count (exactly once).
 *   <li>{@code --pipeline stateful}: {@link io.sluice.examples.CountingMember}, a {@code
 *       mapWithState} running count per Kafka key written exactly once, with the offsets and the
 *       state's changes ({@code sluice_state}), to an embedded PostgreSQL. Before the members
 *       start, {@code --keys} records with distinct keys are loaded, and p1 alone counts them
 *       before p2 and p3 join, so every moved partition carries {@code keys / partitions} keys of
 *       state; the steady input then cycles through the same keys. Besides the pauses, the state
 *       restore rate (keys/s) comes from the members' {@code restored N keys of input partition ...
 *       in M ms} log lines. A run ends with one row per input record and every key's counts exactly
 *       1..n.
 * </ul>
 *
 * <p>One run: p1, p2 and p3 start and settle; LEAVE p3; JOIN p4; KILL p4; each event waits until
 * the live members' last batches cover every partition once, plus {@code --quiet-seconds}. Around
 * each event (from 1 s before it to the end of the quiet time) two pauses are measured from the
 * members' batch completions: <b>global</b>, the longest time with no batch completing on any
 * member (the whole application stalled), and <b>partition</b>, the longest time a partition went
 * without a committed batch covering it (what a record of a moved partition waits).
 */
@Command(
    name = "RebalanceBench",
    mixinStandardHelpOptions = true,
    description = "Rebalance pause of group mode: a member joins, leaves, is killed.")
public final class RebalanceBench implements Callable<Integer> {

  @Option(
      names = "--pipeline",
      description = "stateless, stateful or both, default ${DEFAULT-VALUE}.")
  String pipeline = "stateless";

  @Option(names = "--runs", description = "Runs per pipeline, default ${DEFAULT-VALUE}.")
  int runs = 5;

  @Option(
      names = "--keys",
      description =
          "Stateful: distinct keys loaded before the members start and cycled through by the"
              + " input, default ${DEFAULT-VALUE}.")
  int keys = 200_000;

  @Option(names = "--rate", description = "Input records/s, default ${DEFAULT-VALUE}.")
  int rate = 2_000;

  @Option(names = "--partitions", description = "Input partitions, default ${DEFAULT-VALUE}.")
  int partitions = 6;

  @Option(names = "--interval-ms", description = "Batch interval, default ${DEFAULT-VALUE}.")
  int intervalMs = 500;

  @Option(
      names = "--quiet-seconds",
      description = "Measured time after the group settles, default ${DEFAULT-VALUE}.")
  double quietSeconds = 3;

  @Option(
      names = "--timeout-seconds",
      description = "Longest wait for a group to settle, default ${DEFAULT-VALUE}.")
  int timeoutSeconds = 120;

  private final PrintStream out;
  private final Object signal = new Object();
  private final List<String> failures = new ArrayList<>();

  /** A bench printing to standard output. */
  public RebalanceBench() {
    this(System.out);
  }

  RebalanceBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new RebalanceBench()).execute(args));
  }

  /** The pauses around one event, ms; {@code partition} is the partition that waited longest. */
  record Pause(String event, long globalMs, long partitionMs, int partition) {}

  /** One restore of a partition's state on a member, from its log; {@code event} it belongs to. */
  record Restore(String event, String member, long keys, long millis) {

    /** Keys per second; a restore logged as 0 ms counts as 1 ms. */
    double rate() {
      return keys * 1000.0 / Math.max(1, millis);
    }
  }

  private static final Pattern RESTORED =
      Pattern.compile("restored (\\d+) keys of input partition \\S+ from .* in (\\d+) ms");

  /** Restores of fewer keys say more about the fixed costs than about the rate. */
  private static final long RATE_MIN_KEYS = 1_000;

  @Override
  public Integer call() throws Exception {
    List<String> pipelines =
        switch (pipeline) {
          case "stateless", "stateful" -> List.of(pipeline);
          case "both" -> List.of("stateless", "stateful");
          default ->
              throw new CommandLine.ParameterException(
                  new CommandLine(this),
                  "pipeline must be stateless, stateful or both, was '" + pipeline + "'");
        };
    if (runs <= 0
        || rate <= 0
        || partitions < 3
        || intervalMs <= 0
        || quietSeconds < 0
        || keys <= 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "runs, rate, interval and keys must be > 0, partitions >= 3, quiet-seconds >= 0");
    }
    out.printf(
        Locale.ROOT,
        "RebalanceBench: %s, %d runs each, %,d records/s over %d partitions, %d ms batches,"
            + " session.timeout.ms 6000, heartbeat 1000, cooperative-sticky; %s, %d cpus%n",
        String.join(" and ", pipelines),
        runs,
        rate,
        partitions,
        intervalMs,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors());
    if (pipelines.contains("stateless")) {
      out.println("  stateless: ScaleOutMember, exactly-once KafkaSink");
    }
    if (pipelines.contains("stateful")) {
      out.printf(
          Locale.ROOT,
          "  stateful: CountingMember, mapWithState count per key -> exactly-once JdbcSink"
              + " (embedded PostgreSQL, JDBC offset store, sluice_state); %,d keys loaded first%n",
          keys);
    }
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    Map<String, List<Pause>> all = new TreeMap<>();
    List<Restore> restores = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.startNew();
        EmbeddedPostgresDatabase pg =
            pipelines.contains("stateful") ? EmbeddedPostgresDatabase.startNew() : null) {
      for (String p : pipelines) {
        for (int r = 1; r <= runs; r++) {
          all.computeIfAbsent(p, k -> new ArrayList<>())
              .addAll(run(kafka, pg, p.equals("stateful"), r, restores));
        }
      }
    }
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.println(
        "Summary (ms, median / min / max over the runs): global = no batch completing on any"
            + " member; partition = longest wait of one partition for a committed batch");
    out.printf("failed runs: %d%n", failures.size());
    failures.forEach(f -> out.println("  " + f));
    all.forEach(this::printPauses);
    if (pipelines.contains("stateful")) {
      printRestores(restores);
    }
    return failures.size() < runs * pipelines.size() ? 0 : 1;
  }

  private void printPauses(String pipelineName, List<Pause> pauses) {
    out.println(pipelineName + ":");
    for (String event : List.of("leave", "join", "kill")) {
      List<Double> g = new ArrayList<>();
      List<Double> p = new ArrayList<>();
      pauses.stream()
          .filter(x -> x.event().equals(event))
          .forEach(
              x -> {
                g.add((double) x.globalMs());
                p.add((double) x.partitionMs());
              });
      out.printf(
          Locale.ROOT,
          "  %-5s (%2d samples)  global %6.0f / %6.0f / %6.0f   partition %6.0f / %6.0f / %6.0f%n",
          event,
          g.size(),
          Passes.median(g),
          min(g),
          max(g),
          Passes.median(p),
          min(p),
          max(p));
    }
  }

  /**
   * The state restore rate by event, from the restores of at least {@value #RATE_MIN_KEYS} keys:
   * per restore (keys / its time; median / min / max) and overall (all keys / all restore time).
   */
  private void printRestores(List<Restore> restores) {
    out.printf(
        Locale.ROOT,
        "state restores (of >= %,d keys; keys/s per restore median / min / max, and all keys / all"
            + " restore time):%n",
        RATE_MIN_KEYS);
    for (String event : List.of("start", "leave", "join", "kill", "all")) {
      List<Restore> of =
          restores.stream()
              .filter(x -> x.keys() >= RATE_MIN_KEYS)
              .filter(x -> event.equals("all") || x.event().equals(event))
              .toList();
      List<Double> rates = of.stream().map(Restore::rate).toList();
      List<Double> sizes = of.stream().map(x -> (double) x.keys()).toList();
      long keysTotal = of.stream().mapToLong(Restore::keys).sum();
      long msTotal = of.stream().mapToLong(x -> Math.max(1, x.millis())).sum();
      out.printf(
          Locale.ROOT,
          "  %-5s (%3d restores, median %,7.0f keys)  %,9.0f / %,9.0f / %,9.0f keys/s   overall"
              + " %,9.0f keys/s (%,d keys in %,d ms)%n",
          event,
          of.size(),
          Passes.median(sizes),
          Passes.median(rates),
          min(rates),
          max(rates),
          msTotal == 0 ? Double.NaN : keysTotal * 1000.0 / msTotal,
          keysTotal,
          msTotal);
    }
  }

  private static double min(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  private static double max(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  // ---------------------------------------------------------------- one run

  private List<Pause> run(
      EmbeddedKafka kafka,
      EmbeddedPostgresDatabase pg,
      boolean stateful,
      int r,
      List<Restore> restores)
      throws Exception {
    String app =
        "bench-rebalance-"
            + (stateful ? "stateful-" : "")
            + r
            + "-"
            + Long.toString(System.currentTimeMillis(), 36);
    String in = app + "-in";
    kafka.createTopic(in, partitions);
    Path dir = Files.createTempDirectory("sluice-rebalance-bench-");
    List<MemberProcess> members = new ArrayList<>();
    List<Pause> pauses = new ArrayList<>();
    Map<String, Integer> restoresSeen = new HashMap<>();
    out.printf(
        "run %d, %s (load %s)%n", r, stateful ? "stateful" : "stateless", Passes.loadAverage());
    try (Pipeline pipe =
            stateful ? new Stateful(kafka, pg, app, in) : new Stateless(kafka, app, in);
        NumberedProducer producer = pipe.producer()) {
      try {
        MemberProcess p1 = start("p1", pipe, dir, members);
        if (stateful) {
          long t0 = System.nanoTime();
          await(
              () -> p1.batches().stream().mapToLong(BatchLine::records).sum() >= keys,
              "p1 to count the " + keys + " loaded keys",
              members,
              Set.of());
          out.printf(
              Locale.ROOT,
              "  p1 alone counted the %,d loaded keys in %.1f s%n",
              keys,
              Passes.secondsSince(t0));
        }
        MemberProcess p2 = start("p2", pipe, dir, members);
        MemberProcess p3 = start("p3", pipe, dir, members);
        settle(members, List.of(p1, p2, p3), 0);
        restores.addAll(restoresSince("start", members, restoresSeen));
        pauses.add(event(members, "leave", p3::stopGracefully, List.of(p1, p2), false));
        restores.addAll(restoresSince("leave", members, restoresSeen));
        pauses.add(
            event(members, "join", () -> start("p4", pipe, dir, members), List.of(p1, p2), true));
        restores.addAll(restoresSince("join", members, restoresSeen));
        MemberProcess p4 = members.get(3);
        pauses.add(event(members, "kill", p4::kill, List.of(p1, p2), false));
        restores.addAll(restoresSince("kill", members, restoresSeen));
        long produced = producer.stop() + pipe.loaded();
        Map<TopicPartition, Long> end = kafka.endOffsets(in);
        await(
            () -> pipe.committed().equals(end),
            "the group's offsets to reach " + end,
            members,
            Set.of("p3", "p4"));
        out.println("  " + pipe.check(produced, members));
      } catch (IllegalStateException e) {
        // A member failing is a result, not a bench bug: count it and go on with the next run.
        out.println("  run " + r + " FAILED: " + e.getMessage());
        failures.add(
            "run "
                + r
                + (stateful ? " (stateful)" : "")
                + " after "
                + pauses.size()
                + " events: "
                + e.getMessage());
      } finally {
        members.forEach(MemberProcess::close);
        if (!stateful) {
          out.printf(
              "  batches written again after a generation change (sink WARN): %d%n",
              members.stream().mapToLong(m -> m.countInLog("writing the batch again")).sum());
        }
        BenchData.deleteTree(dir);
      }
    }
    return pauses;
  }

  /** The restores the members logged since the last call, as restores of {@code event}. */
  private List<Restore> restoresSince(
      String event, List<MemberProcess> members, Map<String, Integer> seen) {
    List<Restore> found = new ArrayList<>();
    for (MemberProcess m : members) {
      List<String> lines = m.logLines("restored ");
      int from = seen.getOrDefault(m.name(), 0);
      for (String line : lines.subList(Math.min(from, lines.size()), lines.size())) {
        Matcher x = RESTORED.matcher(line);
        if (x.find()) {
          found.add(
              new Restore(event, m.name(), Long.parseLong(x.group(1)), Long.parseLong(x.group(2))));
        }
      }
      seen.put(m.name(), lines.size());
    }
    long big = found.stream().filter(x -> x.keys() >= RATE_MIN_KEYS).count();
    if (big > 0) {
      out.printf(
          Locale.ROOT,
          "  %-5s restores: %s%n",
          event,
          found.stream()
              .filter(x -> x.keys() >= RATE_MIN_KEYS)
              .map(
                  x ->
                      String.format(
                          Locale.ROOT, "%s %,d keys in %d ms", x.member(), x.keys(), x.millis()))
              .collect(java.util.stream.Collectors.joining(", ")));
    }
    return found;
  }

  private MemberProcess start(String name, Pipeline pipe, Path dir, List<MemberProcess> members) {
    try {
      Files.createDirectories(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    MemberProcess m = pipe.start(name, dir, b -> wake());
    members.add(m);
    return m;
  }

  // ---------------------------------------------------------------- the pipelines

  /** What one run's members run, what the input carries, and how the output is checked. */
  private interface Pipeline extends AutoCloseable {

    /**
     * Starts member {@code name} with its checkpoint in {@code dir/name}, logging to {@code dir}.
     */
    MemberProcess start(String name, Path dir, Consumer<BatchLine> onBatch);

    /** The steady input, started. */
    NumberedProducer producer();

    /** Records written to the input before the members started. */
    long loaded();

    /** The group's committed offsets, where its members read them at start. */
    Map<TopicPartition, Long> committed();

    /**
     * Checks the output once the group committed every input record ({@code records} in all);
     * returns what it found, throws {@link IllegalStateException} when it is not exactly once.
     */
    String check(long records, List<MemberProcess> members) throws Exception;

    @Override
    void close();
  }

  /** {@code ScaleOutMember}: a copy to an output topic through the exactly-once KafkaSink. */
  private final class Stateless implements Pipeline {

    private final EmbeddedKafka kafka;
    private final String app;
    private final String in;
    private final String outTopic;

    Stateless(EmbeddedKafka kafka, String app, String in) {
      this.kafka = kafka;
      this.app = app;
      this.in = in;
      this.outTopic = app + "-out";
      kafka.createTopic(outTopic, partitions);
    }

    @Override
    public MemberProcess start(String name, Path dir, Consumer<BatchLine> onBatch) {
      return MemberProcess.start(
          name,
          List.of(
              kafka.bootstrapServers(),
              in,
              outTopic,
              app,
              dir.resolve(name).toString(),
              Integer.toString(intervalMs)),
          dir,
          onBatch);
    }

    @Override
    public NumberedProducer producer() {
      return new NumberedProducer(kafka.bootstrapServers(), in, partitions, rate);
    }

    @Override
    public long loaded() {
      return 0;
    }

    @Override
    public Map<TopicPartition, Long> committed() {
      Map<TopicPartition, Long> c = new HashMap<>();
      KafkaGroupOffsets.read(kafka.admin(), app, true, Duration.ofSeconds(10))
          .forEach((tp, om) -> c.put(tp, om.offset()));
      return c;
    }

    @Override
    public String check(long records, List<MemberProcess> members) throws Exception {
      // A killed member's open transaction holds back read_committed readers until the broker
      // aborts it (transaction.timeout.ms): count only once the output has none.
      await(
          () -> endOffsets(kafka, outTopic, true).equals(endOffsets(kafka, outTopic, false)),
          "the transactions left open on " + outTopic + " to end",
          members,
          Set.of("p3", "p4"));
      long output = kafka.consumeAll(outTopic, true).size();
      if (output != records) {
        throw new IllegalStateException("output " + output + " != produced " + records);
      }
      return String.format(
          Locale.ROOT, "produced %,d, output %,d (read_committed): exactly once", records, output);
    }

    @Override
    public void close() {}
  }

  /**
   * {@code CountingMember}: a running count per key into PostgreSQL, after {@code --keys} distinct
   * keys were loaded.
   */
  private final class Stateful implements Pipeline {

    private final EmbeddedKafka kafka;
    private final EmbeddedPostgresDatabase pg;
    private final String app;
    private final String in;
    private final String table;
    private final DataSource ds;
    private final JdbcOffsetStore store;

    Stateful(EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, String app, String in)
        throws SQLException {
      this.kafka = kafka;
      this.pg = pg;
      this.app = app;
      this.in = in;
      this.table = app.replace('-', '_') + "_counts";
      this.ds = pg.dataSource();
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute(String.format(CountingMember.DDL, table));
      }
      // Creates the offset tables before the members start, so that they do not race to.
      this.store = OffsetStores.jdbc(ds);
      long t0 = System.nanoTime();
      BenchData.produceKeys(kafka, in, keys);
      out.printf(
          Locale.ROOT, "  loaded %,d keys into %s in %.1f s%n", keys, in, Passes.secondsSince(t0));
    }

    @Override
    public MemberProcess start(String name, Path dir, Consumer<BatchLine> onBatch) {
      return MemberProcess.start(
          CountingMember.class,
          "512m",
          name,
          List.of(
              kafka.bootstrapServers(),
              in,
              pg.jdbcUrl(),
              pg.user(),
              pg.password(),
              table,
              app,
              dir.resolve(name).toString(),
              Integer.toString(intervalMs)),
          dir,
          onBatch);
    }

    @Override
    public NumberedProducer producer() {
      return new NumberedProducer(kafka.bootstrapServers(), in, partitions, rate, keys);
    }

    @Override
    public long loaded() {
      return keys;
    }

    @Override
    public Map<TopicPartition, Long> committed() {
      return store.committed(app);
    }

    @Override
    public String check(long records, List<MemberProcess> members) throws SQLException {
      long rows = single("SELECT COUNT(*) FROM " + table);
      // A key whose counts are not exactly 1..n: a lost state restarts at 1 (a repeat), a batch
      // applied twice repeats or skips.
      long wrong =
          single(
              "SELECT COUNT(*) FROM (SELECT k FROM "
                  + table
                  + " GROUP BY k HAVING MIN(n) <> 1 OR MAX(n) <> COUNT(*)"
                  + " OR COUNT(DISTINCT n) <> COUNT(*)) wrong");
      long stateRows = single("SELECT COUNT(*) FROM sluice_state WHERE app = '" + app + "'");
      if (rows != records || wrong != 0 || stateRows != keys) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "rows %,d for %,d records, %,d keys with counts not 1..n, %,d state rows for %,d"
                    + " keys",
                rows,
                records,
                wrong,
                stateRows,
                keys));
      }
      return String.format(
          Locale.ROOT,
          "records %,d, rows %,d, every key's counts 1..n, %,d state rows: exactly once",
          records,
          rows,
          stateRows);
    }

    private long single(String sql) throws SQLException {
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }

    @Override
    public void close() {
      store.close();
    }
  }

  /**
   * Runs {@code action} (the event), waits until the live members settle (the joiner, when {@code
   * joins}, counted among them) and {@code --quiet-seconds} more, and measures the pauses from 1 s
   * before the event to then.
   */
  private Pause event(
      List<MemberProcess> members,
      String name,
      Runnable action,
      List<MemberProcess> stayers,
      boolean joins)
      throws InterruptedException {
    long t = System.currentTimeMillis();
    int before = members.size();
    action.run();
    List<MemberProcess> live = new ArrayList<>(stayers);
    if (joins) {
      live.add(members.get(before));
    }
    long settled = settle(members, live, t);
    Pause p = measure(name, members, t - 1_000, settled + (long) (quietSeconds * 1000));
    out.printf(
        Locale.ROOT,
        "  %-5s settled %5.1f s after the event; pause global %5d ms, partition %5d ms (partition %d)%n",
        name,
        (settled - t) / 1000.0,
        p.globalMs(),
        p.partitionMs(),
        p.partition());
    return p;
  }

  /**
   * Waits until each of {@code live} completed a batch after {@code after} and their last batches'
   * partitions cover every partition exactly once, then for the quiet time; returns when it settled
   * (epoch ms).
   */
  private long settle(List<MemberProcess> members, List<MemberProcess> live, long after)
      throws InterruptedException {
    Set<String> gone = new HashSet<>();
    members.stream().filter(m -> !live.contains(m)).forEach(m -> gone.add(m.name()));
    await(() -> covers(live, after), "members " + names(live) + " to settle", members, gone);
    long settled = System.currentTimeMillis();
    long quietEnd = settled + (long) (quietSeconds * 1000);
    await(() -> System.currentTimeMillis() >= quietEnd, "the quiet time", members, gone);
    return settled;
  }

  private boolean covers(List<MemberProcess> live, long after) {
    Set<Integer> owned = new HashSet<>();
    int count = 0;
    for (MemberProcess m : live) {
      BatchLine b = m.last();
      if (b == null || b.completedMillis() <= after || b.partitions().isEmpty()) {
        return false;
      }
      owned.addAll(b.partitions());
      count += b.partitions().size();
    }
    return owned.size() == partitions && count == partitions;
  }

  private static List<String> names(List<MemberProcess> ms) {
    return ms.stream().map(MemberProcess::name).toList();
  }

  /** The pauses between {@code from} and {@code to} (epoch ms), from every member's batches. */
  static Pause measure(String event, List<MemberProcess> members, long from, long to) {
    List<Long> all = new ArrayList<>();
    Map<Integer, List<Long>> perPartition = new TreeMap<>();
    for (MemberProcess m : members) {
      for (BatchLine b : m.batches()) {
        if (b.completedMillis() >= from && b.completedMillis() <= to) {
          all.add(b.completedMillis());
          for (int p : b.partitions()) {
            perPartition.computeIfAbsent(p, k -> new ArrayList<>()).add(b.completedMillis());
          }
        }
      }
    }
    long global = longestGap(all, from, to);
    long worst = -1;
    int worstPartition = -1;
    for (Map.Entry<Integer, List<Long>> e : perPartition.entrySet()) {
      long gap = longestGap(e.getValue(), from, to);
      if (gap > worst) {
        worst = gap;
        worstPartition = e.getKey();
      }
    }
    return new Pause(event, global, worst, worstPartition);
  }

  /** The longest time between consecutive instants, counting the window's ends as instants. */
  static long longestGap(List<Long> times, long from, long to) {
    List<Long> sorted = new ArrayList<>(times);
    sorted.add(from);
    sorted.add(to);
    sorted.sort(null);
    long gap = 0;
    for (int i = 1; i < sorted.size(); i++) {
      gap = Math.max(gap, sorted.get(i) - sorted.get(i - 1));
    }
    return gap;
  }

  private Map<TopicPartition, Long> endOffsets(
      EmbeddedKafka kafka, String topic, boolean readCommitted) {
    Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      specs.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    Map<TopicPartition, Long> end = new HashMap<>();
    try {
      kafka
          .admin()
          .listOffsets(
              specs,
              new ListOffsetsOptions(
                  readCommitted ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED))
          .all()
          .get(30, TimeUnit.SECONDS)
          .forEach((tp, info) -> end.put(tp, info.offset()));
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot read the end offsets of " + topic + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading the end offsets of " + topic, e);
    }
    return end;
  }

  private void wake() {
    synchronized (signal) {
      signal.notifyAll();
    }
  }

  /**
   * Waits until {@code condition} holds; fails when a member other than {@code gone} died or any
   * batch failed, or after {@code --timeout-seconds}.
   */
  private void await(
      BooleanSupplier condition, String what, List<MemberProcess> members, Set<String> gone)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    synchronized (signal) {
      while (!condition.getAsBoolean()) {
        for (MemberProcess m : members) {
          if (!m.failures().isEmpty()) {
            throw new IllegalStateException(m.name() + ": " + m.failures().get(0));
          }
          if (!m.isAlive() && !gone.contains(m.name())) {
            throw new IllegalStateException(m.name() + " exited while waiting for " + what);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("timed out waiting for " + what);
        }
        signal.wait(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(left))));
      }
    }
  }
}
