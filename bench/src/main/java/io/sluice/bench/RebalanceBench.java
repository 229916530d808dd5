package io.sluice.bench;

import io.sluice.examples.MemberProcess;
import io.sluice.examples.MemberProcess.BatchLine;
import io.sluice.examples.NumberedProducer;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.testkit.EmbeddedKafka;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The rebalance pause of group mode: a stateless pipeline (group-mode direct stream -> exactly-once
 * {@code KafkaSink}) in member processes (child JVMs running {@link
 * io.sluice.examples.ScaleOutMember}) under a steady input, while (a) a member joins, (b) a member
 * leaves gracefully ({@code ctx.stop(true)}) and (c) a member is killed with SIGKILL.
 *
 * <p>One run: p1, p2 and p3 start and settle; LEAVE p3; JOIN p4; KILL p4; each event waits until
 * the live members' last batches cover every partition once, plus {@code --quiet-seconds}. Around
 * each event (from 1 s before it to the end of the quiet time) two pauses are measured from the
 * members' batch completions: <b>global</b>, the longest time with no batch completing on any
 * member (the whole application stalled), and <b>partition</b>, the longest time a partition went
 * without a committed batch covering it (what a record of a moved partition waits). At the end of a
 * run the producer stops, the group's committed offsets reach the end, and the output's
 * read_committed record count must equal the produced count (exactly once).
 */
@Command(
    name = "RebalanceBench",
    mixinStandardHelpOptions = true,
    description = "Rebalance pause of group mode: a member joins, leaves, is killed.")
public final class RebalanceBench implements Callable<Integer> {

  @Option(names = "--runs", description = "Runs, default ${DEFAULT-VALUE}.")
  int runs = 5;

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

  @Override
  public Integer call() throws Exception {
    if (runs <= 0 || rate <= 0 || partitions < 3 || intervalMs <= 0 || quietSeconds < 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "runs, rate and interval must be > 0, partitions >= 3, quiet-seconds >= 0");
    }
    out.printf(
        Locale.ROOT,
        "RebalanceBench: %d runs, %,d records/s over %d partitions, %d ms batches, session.timeout.ms"
            + " 6000, heartbeat 1000, cooperative-sticky, exactly-once KafkaSink; %s, %d cpus%n",
        runs,
        rate,
        partitions,
        intervalMs,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors());
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    List<Pause> all = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.startNew()) {
      for (int r = 1; r <= runs; r++) {
        List<Pause> pauses = run(kafka, r);
        all.addAll(pauses);
      }
    }
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.println(
        "Summary (ms, median / min / max over the runs): global = no batch completing on any"
            + " member; partition = longest wait of one partition for a committed batch");
    out.printf("failed runs: %d%n", failures.size());
    failures.forEach(f -> out.println("  " + f));
    for (String event : List.of("leave", "join", "kill")) {
      List<Double> g = new ArrayList<>();
      List<Double> p = new ArrayList<>();
      all.stream()
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
    return failures.size() < runs ? 0 : 1;
  }

  private static double min(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  private static double max(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  // ---------------------------------------------------------------- one run

  private List<Pause> run(EmbeddedKafka kafka, int r) throws Exception {
    String app = "bench-rebalance-" + r + "-" + Long.toString(System.currentTimeMillis(), 36);
    String in = app + "-in";
    String outTopic = app + "-out";
    kafka.createTopic(in, partitions);
    kafka.createTopic(outTopic, partitions);
    Path dir = Files.createTempDirectory("sluice-rebalance-bench-");
    List<MemberProcess> members = new ArrayList<>();
    List<Pause> pauses = new ArrayList<>();
    out.printf("run %d (load %s)%n", r, Passes.loadAverage());
    try (NumberedProducer producer =
        new NumberedProducer(kafka.bootstrapServers(), in, partitions, rate)) {
      try {
        MemberProcess p1 = start("p1", kafka, in, outTopic, app, dir, members);
        MemberProcess p2 = start("p2", kafka, in, outTopic, app, dir, members);
        MemberProcess p3 = start("p3", kafka, in, outTopic, app, dir, members);
        settle(members, List.of(p1, p2, p3), 0);
        pauses.add(event(members, "leave", p3::stopGracefully, List.of(p1, p2), false));
        pauses.add(
            event(
                members,
                "join",
                () -> start("p4", kafka, in, outTopic, app, dir, members),
                List.of(p1, p2),
                true));
        MemberProcess p4 = members.get(3);
        pauses.add(event(members, "kill", p4::kill, List.of(p1, p2), false));
        long produced = producer.stop();
        Map<TopicPartition, Long> end = kafka.endOffsets(in);
        await(
            () -> committed(kafka, app).equals(end),
            "the group's offsets to reach " + end,
            members,
            Set.of("p3", "p4"));
        // A killed member's open transaction holds back read_committed readers until the broker
        // aborts it (transaction.timeout.ms): count only once the output has none.
        await(
            () -> endOffsets(kafka, outTopic, true).equals(endOffsets(kafka, outTopic, false)),
            "the transactions left open on " + outTopic + " to end",
            members,
            Set.of("p3", "p4"));
        long output = kafka.consumeAll(outTopic, true).size();
        out.printf(
            "  produced %,d, output %,d (read_committed): %s%n",
            produced, output, output == produced ? "exactly once" : "NOT EXACTLY ONCE");
        if (output != produced) {
          throw new IllegalStateException("output " + output + " != produced " + produced);
        }
      } catch (IllegalStateException e) {
        // A member failing is a result, not a bench bug: count it and go on with the next run.
        out.println("  run " + r + " FAILED: " + e.getMessage());
        failures.add("run " + r + " after " + pauses.size() + " events: " + e.getMessage());
      } finally {
        members.forEach(MemberProcess::close);
        out.printf(
            "  batches written again after a generation change (sink WARN): %d%n",
            members.stream().mapToLong(m -> m.countInLog("writing the batch again")).sum());
        BenchData.deleteTree(dir);
      }
    }
    return pauses;
  }

  private MemberProcess start(
      String name,
      EmbeddedKafka kafka,
      String in,
      String outTopic,
      String app,
      Path dir,
      List<MemberProcess> members) {
    try {
      Files.createDirectories(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    MemberProcess m =
        MemberProcess.start(
            name,
            List.of(
                kafka.bootstrapServers(),
                in,
                outTopic,
                app,
                dir.resolve(name).toString(),
                Integer.toString(intervalMs)),
            dir,
            b -> wake());
    members.add(m);
    return m;
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

  private static Map<TopicPartition, Long> committed(EmbeddedKafka kafka, String group) {
    Map<TopicPartition, Long> c = new HashMap<>();
    KafkaGroupOffsets.read(kafka.admin(), group, true, Duration.ofSeconds(10))
        .forEach((tp, om) -> c.put(tp, om.offset()));
    return c;
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
