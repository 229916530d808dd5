package io.sluice.examples;

import io.sluice.examples.MemberProcess.BatchLine;
import io.sluice.offsets.KafkaGroupOffsets;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * Several processes share one pipeline through Kafka's consumer group: child JVMs run {@link
 * ScaleOutMember} in group mode into the exactly-once Kafka sink, one is killed with SIGKILL
 * midway, its partitions move to the others, and a read_committed check finds every produced record
 * in the output exactly once.
 */
@Command(
    name = "scale-out",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Group mode: N child JVMs run the same pipeline (Kafka -> exactly-once KafkaSink) with the same",
      "group.id; Kafka's group coordinator shares the input's partitions among them. One process is",
      "killed with SIGKILL midway; after its session times out its partitions move to the others,",
      "which continue from the offsets its last committed transaction left. A read_committed consumer",
      "then checks that the output holds every produced record exactly once."
    })
public final class ScaleOutCommand implements Callable<Integer> {

  private static final Duration SESSION_TIMEOUT = Duration.ofMillis(6_000);

  @ParentCommand private Examples parent;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--input",
      defaultValue = "scale-in",
      description = "Input topic (default: ${DEFAULT-VALUE}).")
  private String input;

  @Option(
      names = "--output",
      defaultValue = "scale-out",
      description = "Output topic (default: ${DEFAULT-VALUE}).")
  private String output;

  @Option(
      names = "--partitions",
      defaultValue = "6",
      description = "Partitions of the input topic when it is created (default: ${DEFAULT-VALUE}).")
  private int partitions;

  @Option(
      names = "--processes",
      defaultValue = "3",
      description = "Member processes (child JVMs) to start (default: ${DEFAULT-VALUE}).")
  private int processes;

  @Option(
      names = "--duration",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "How long the generator runs; the kill comes at half of it (default: ${DEFAULT-VALUE}).")
  private Duration duration;

  @Option(
      names = "--rate",
      defaultValue = "1000",
      description = "Records per second (default: ${DEFAULT-VALUE}).")
  private double rate;

  @Option(
      names = "--batch-interval",
      defaultValue = "500ms",
      converter = DurationConverter.class,
      description = "Batch interval of every member (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--wait-timeout",
      defaultValue = "90s",
      converter = DurationConverter.class,
      description =
          "How long each wait may take: the members' start, the partitions' move, the final catch-up"
              + " (default: ${DEFAULT-VALUE}).")
  private Duration waitTimeout;

  /** Used by picocli. */
  public ScaleOutCommand() {}

  /** What the kill moved: the victim, when, and where each of its partitions resumed. */
  record Move(String victim, long killMillis, Map<Integer, BatchLine> resumed) {}

  @Override
  public Integer call() throws Exception {
    PrintStream out = parent.out();
    if (processes < 2 || partitions < processes) {
      out.println("--processes must be >= 2 and <= --partitions");
      return 2;
    }
    String app = "scale-out-" + Long.toString(System.currentTimeMillis(), 36);
    Check.banner(
        out,
        "Sluice scale-out: " + processes + " processes, one consumer group",
        "generator  -> topic '"
            + input
            + "' ("
            + partitions
            + " partitions), "
            + (long) rate
            + " numbered records/s for "
            + Check.format(duration),
        "members    p1..p"
            + processes
            + ": child JVMs, group mode (group '"
            + app
            + "', cooperative-sticky) -> KafkaSink exactly-once to '"
            + output
            + "'",
        "chaos      p2 is killed with SIGKILL at "
            + Check.format(duration.dividedBy(2))
            + "; its partitions move after session.timeout.ms "
            + SESSION_TIMEOUT.toMillis(),
        "verify     read_committed output == produced records, each exactly once");
    try (Servers servers = new Servers(serverOptions, out)) {
      String bootstrap = servers.bootstrapServers();
      servers.createTopic(input, partitions);
      servers.createTopic(output, partitions);
      Map<TopicPartition, Long> inputStart = servers.endOffsets(input);
      Map<TopicPartition, Long> outputStart = servers.endOffsets(output);
      int inputPartitions = inputStart.size();
      seedGroup(servers, app, inputStart);
      Path dir = Check.tempDir("sluice-scale-out-");
      Signal signal = new Signal();
      List<MemberProcess> members = new ArrayList<>();
      long t0 = System.currentTimeMillis();
      Move move;
      long produced;
      try (NumberedProducer producer =
          new NumberedProducer(bootstrap, input, inputPartitions, rate)) {
        try {
          for (int i = 1; i <= processes; i++) {
            members.add(startMember("p" + i, bootstrap, app, dir, out, t0, signal));
          }
          out.printf("started %d member JVMs; producing ...%n", processes);
          move = killAndWatch(out, members, inputPartitions, signal, t0);
          signal.await(
              () -> System.currentTimeMillis() >= t0 + duration.toMillis(),
              duration.plus(waitTimeout),
              "the end of the generator",
              () -> problem(members, move.victim()));
          produced = producer.stop();
          Map<TopicPartition, Long> end = servers.endOffsets(input);
          out.printf(
              "%n%7.1fs generator stopped after %,d records; waiting for the group's committed"
                  + " offsets to reach %s ...%n",
              (System.currentTimeMillis() - t0) / 1000.0, produced, end);
          signal.await(
              () -> committed(servers, app).equals(end),
              waitTimeout,
              "the group's committed offsets to reach the end of '" + input + "'",
              () -> problem(members, move.victim()));
          // The killed process may have left a transaction open on the output; until the broker
          // aborts it (transaction.timeout.ms), read_committed readers stop before it.
          out.printf(
              "%7.1fs waiting for open transactions on '%s' to end ...%n",
              (System.currentTimeMillis() - t0) / 1000.0, output);
          signal.await(
              () -> servers.endOffsets(output, true).equals(servers.endOffsets(output)),
              waitTimeout,
              "the transactions left open on '" + output + "' to end",
              () -> null);
        } catch (IllegalStateException e) {
          out.println("FAIL: " + e.getMessage());
          for (MemberProcess m : members) {
            out.println("--- last lines of " + m.name() + "'s log:\n" + m.tail(15));
          }
          return 1;
        } finally {
          members.forEach(MemberProcess::close);
          Check.deleteTree(dir);
        }
      }
      printMove(out, move);
      return verify(out, servers, outputStart, produced, move);
    }
  }

  private MemberProcess startMember(
      String name,
      String bootstrap,
      String app,
      Path dir,
      PrintStream out,
      long t0,
      Signal signal) {
    List<String> args =
        List.of(
            bootstrap,
            input,
            output,
            app,
            dir.resolve(name).toString(),
            Long.toString(batchInterval.toMillis()));
    return MemberProcess.start(
        name,
        args,
        dir,
        b -> {
          out.printf(
              "%7.1fs %s batch %d records %d partitions %s%n",
              (b.completedMillis() - t0) / 1000.0,
              b.member(),
              b.batchId(),
              b.records(),
              b.partitions());
          signal.signal();
        });
  }

  /**
   * Waits until every member owns partitions and half the run has passed, kills p2 and waits until
   * each of its partitions has a committed batch on another member.
   */
  private Move killAndWatch(
      PrintStream out, List<MemberProcess> members, int inputPartitions, Signal signal, long t0)
      throws InterruptedException {
    MemberProcess victim = members.get(1);
    signal.await(
        () ->
            System.currentTimeMillis() >= t0 + duration.toMillis() / 2
                && settled(members, inputPartitions),
        duration.plus(waitTimeout),
        "every member to own partitions",
        () -> problem(members, null));
    List<Integer> owned = victim.lastPartitions();
    long killMillis = System.currentTimeMillis();
    int exit = victim.kill();
    out.printf(
        "%n%7.1fs >>> SIGKILL %s (exit code %d); it owned partitions %s%n%n",
        (killMillis - t0) / 1000.0, victim.name(), exit, owned);
    Map<Integer, BatchLine> resumed = new LinkedHashMap<>();
    signal.await(
        () -> {
          for (int p : owned) {
            resumed.computeIfAbsent(p, q -> firstBatchAfter(members, victim, q, killMillis));
          }
          return resumed.size() == owned.size();
        },
        SESSION_TIMEOUT.plus(waitTimeout),
        "partitions " + owned + " of " + victim.name() + " to resume on another member",
        () -> problem(members, victim.name()));
    return new Move(victim.name(), killMillis, resumed);
  }

  /** Every member has completed a batch, and their last batches' partitions split the topic. */
  private static boolean settled(List<MemberProcess> members, int inputPartitions) {
    Set<Integer> all = new HashSet<>();
    int count = 0;
    for (MemberProcess m : members) {
      List<Integer> owned = m.lastPartitions();
      if (owned.isEmpty()) {
        return false;
      }
      all.addAll(owned);
      count += owned.size();
    }
    return all.size() == inputPartitions && count == inputPartitions;
  }

  private static BatchLine firstBatchAfter(
      List<MemberProcess> members, MemberProcess victim, int partition, long afterMillis) {
    BatchLine first = null;
    for (MemberProcess m : members) {
      if (m == victim) {
        continue;
      }
      for (BatchLine b : m.batches()) {
        if (b.completedMillis() > afterMillis && b.partitions().contains(partition)) {
          if (first == null || b.completedMillis() < first.completedMillis()) {
            first = b;
          }
          break;
        }
      }
    }
    return first;
  }

  /** A member that died (other than the victim) or a failed batch, or null. */
  private static String problem(List<MemberProcess> members, String victim) {
    for (MemberProcess m : members) {
      if (!m.failures().isEmpty()) {
        return m.name() + " failed: " + m.failures().get(0);
      }
      if (!m.isAlive() && !m.name().equals(victim)) {
        return m.name() + " exited unexpectedly";
      }
    }
    return null;
  }

  private static void printMove(PrintStream out, Move move) {
    out.printf("%npartitions of %s after the kill:%n", move.victim());
    move.resumed()
        .forEach(
            (p, b) ->
                out.printf(
                    "   partition %d: %s -> %s, first committed batch %d there %.1f s after the kill%n",
                    p,
                    move.victim(),
                    b.member(),
                    b.batchId(),
                    (b.completedMillis() - move.killMillis()) / 1000.0));
  }

  /** The longest time from the kill to a moved partition's first committed batch, in seconds. */
  private static double resumeSeconds(Move move) {
    return move.resumed().values().stream()
            .mapToLong(b -> b.completedMillis() - move.killMillis())
            .max()
            .orElse(0)
        / 1000.0;
  }

  private int verify(
      PrintStream out,
      Servers servers,
      Map<TopicPartition, Long> outputStart,
      long produced,
      Move move) {
    Map<String, Integer> seen = new HashMap<>();
    List<ConsumerRecord<String, String>> records = servers.readAll(output, outputStart, true);
    for (ConsumerRecord<String, String> r : records) {
      seen.merge(r.value(), 1, Integer::sum);
    }
    long duplicates = seen.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
    long missing = 0;
    for (long i = 0; i < produced; i++) {
      if (!seen.containsKey(NumberedProducer.value(i))) {
        missing++;
      }
    }
    long unexpected = seen.size() - (produced - missing);
    boolean pass = records.size() == produced && duplicates == 0 && missing == 0 && unexpected == 0;
    String moved =
        move.resumed().entrySet().stream()
            .map(e -> e.getKey() + "->" + e.getValue().member())
            .collect(Collectors.joining(", "));
    return Check.verdict(
        out,
        pass,
        String.format(
            Locale.ROOT,
            "output %,d records %s %,d produced, each exactly once (%d duplicates, %d missing, %d"
                + " unexpected); %s killed, partitions moved %s, resumed %.1f s after the kill",
            records.size(),
            records.size() == produced ? "==" : "!=",
            produced,
            duplicates,
            missing,
            unexpected,
            move.victim(),
            moved,
            resumeSeconds(move)));
  }

  /** Commits the group's offsets at the input's current end, so the members skip older records. */
  private static void seedGroup(Servers servers, String group, Map<TopicPartition, Long> start) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    start.forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o)));
    try {
      servers.admin().alterConsumerGroupOffsets(group, offsets).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot set the offsets of group " + group + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while setting the offsets of " + group, e);
    }
  }

  /** The group's stable committed offsets (no transaction pending on them). */
  private static Map<TopicPartition, Long> committed(Servers servers, String group) {
    Map<TopicPartition, Long> out = new HashMap<>();
    KafkaGroupOffsets.read(servers.admin(), group, true, Duration.ofSeconds(10))
        .forEach((tp, om) -> out.put(tp, om.offset()));
    return out;
  }

  /**
   * Where the reader threads wake the command thread: every batch line signals, and {@link #await}
   * re-checks its condition then (or every 200 ms, for conditions read from the broker).
   */
  static final class Signal {

    synchronized void signal() {
      notifyAll();
    }

    /**
     * Waits until {@code condition} holds.
     *
     * @throws IllegalStateException when {@code problem} reports one, or after {@code timeout}
     */
    synchronized void await(
        BooleanSupplier condition,
        Duration timeout,
        String what,
        java.util.function.Supplier<String> problem)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!condition.getAsBoolean()) {
        String p = problem.get();
        if (p != null) {
          throw new IllegalStateException(p + " (while waiting for " + what + ")");
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException(
              "timed out after " + Check.format(timeout) + " waiting for " + what);
        }
        wait(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(left))));
      }
    }
  }
}
