package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group mode across processes: three child JVMs of one application share a topic's partitions
 * through the consumer group and write to the exactly-once Kafka sink. One is killed with SIGKILL,
 * one is added back, and partitions are added to the topic; the output holds every input record
 * exactly once, and every partition's committed ranges tile its log without overlap (no two
 * processes ever committed the same offsets).
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class GroupScaleOutTest {

  /** A committed batch as one process printed it. */
  record Committed(String process, long batchTime, long committedAt, List<Range> ranges) {}

  record Range(TopicPartition tp, long from, long until) {}

  @Test
  void processesShareThePartitionsExactlyOnceThroughKillsJoinsAndNewPartitions(
      EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
    String app = "scale-out-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    kafka.createTopic(in, 4);
    kafka.createTopic(out, 2);
    AtomicInteger partitions = new AtomicInteger(4);
    AtomicInteger produced = new AtomicInteger();
    ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
    Map<String, PipelineProcess> processes = new TreeMap<>();
    try {
      producer.scheduleAtFixedRate(
          () -> {
            List<ProducerRecord<String, String>> batch = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
              int n = produced.getAndIncrement();
              batch.add(new ProducerRecord<>(in, n % partitions.get(), "k" + n, value(n)));
            }
            kafka.produce(batch);
          },
          0,
          100,
          TimeUnit.MILLISECONDS);
      for (String name : List.of("p1", "p2", "p3")) {
        processes.put(name, start(kafka, dir, app, in, out, name));
      }
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> owners(dir, processes.keySet()).size() == 3);

      // SIGKILL one process: its partitions move to the others after its session times out.
      Set<TopicPartition> orphaned = lastOwned(dir, "p2");
      assertThat(orphaned).isNotEmpty();
      long killedAt = System.currentTimeMillis();
      assertThat(processes.get("p2").kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> resumedAt(dir, List.of("p1", "p3"), orphaned, killedAt) > 0);
      long resumed = resumedAt(dir, List.of("p1", "p3"), orphaned, killedAt);
      System.out.printf(
          "GROUP_SCALE_OUT kill->resumed %d ms for %s%n", resumed - killedAt, orphaned);

      // A fourth process joins: a cooperative rebalance gives it partitions.
      processes.put("p4", start(kafka, dir, app, in, out, "p4"));
      await().atMost(Duration.ofSeconds(90)).until(() -> owners(dir, List.of("p4")).contains("p4"));

      // Partitions added to the topic are assigned and read from their start.
      try (var admin = kafka.admin()) {
        admin.createPartitions(Map.of(in, NewPartitions.increaseTo(6))).all().get();
      }
      partitions.set(6);
      Set<TopicPartition> added = Set.of(new TopicPartition(in, 4), new TopicPartition(in, 5));
      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  committed(dir, List.of("p1", "p3", "p4")).stream()
                      .flatMap(c -> c.ranges().stream())
                      .filter(r -> r.until() > r.from())
                      .map(Range::tp)
                      .collect(Collectors.toSet())
                      .containsAll(added));
      // More kill-and-replace cycles (-Dsluice.it.groupKills; the chaos profile raises it).
      List<Long> pauses = new ArrayList<>(List.of(resumed - killedAt));
      Set<String> killed = new TreeSet<>(Set.of("p2"));
      int next = 5;
      for (int cycle = 1; cycle < KILLS; cycle++) {
        String victim =
            owners(dir, live(processes.keySet(), killed)).stream()
                .skip(cycle % 2)
                .findFirst()
                .orElseThrow();
        Set<TopicPartition> moved = lastOwned(dir, victim);
        long at = System.currentTimeMillis();
        assertThat(processes.get(victim).kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
        killed.add(victim);
        List<String> survivors = live(processes.keySet(), killed);
        await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> resumedAt(dir, survivors, moved, at) > 0);
        pauses.add(resumedAt(dir, survivors, moved, at) - at);
        String fresh = "p" + next++;
        processes.put(fresh, start(kafka, dir, app, in, out, fresh));
        await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> owners(dir, List.of(fresh)).contains(fresh));
      }
      List<Long> sorted = pauses.stream().sorted().toList();
      System.out.printf(
          "GROUP_SCALE_OUT %d kills: kill->resumed min %d median %d max %d ms%n",
          sorted.size(),
          sorted.get(0),
          sorted.get(sorted.size() / 2),
          sorted.get(sorted.size() - 1));
      producer.shutdown();
      assertThat(producer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      int total = produced.get();

      // Every record reaches the output once.
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> kafka.consumeAll(out, true).size() >= total);
      List<String> values =
          kafka.consumeAll(out, true).stream().map(ConsumerRecord::value).sorted().toList();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        expected.add(value(i));
      }
      assertThat(values).isEqualTo(expected);

      // The committed ranges of each partition tile its log: no offset committed twice.
      Map<TopicPartition, Long> ends = kafka.endOffsets(in);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> covered(dir, processes.keySet()).equals(ends));
      assertTiled(committed(dir, processes.keySet()), ends);
      // No batch failed: every process not killed is still running.
      for (String name : live(processes.keySet(), killed)) {
        assertThat(processes.get(name).isAlive())
            .as(
                "%s runs; its group events and failures:%n%s",
                name,
                lines(dir, name).stream()
                    .filter(
                        l ->
                            l.contains("GroupMember")
                                || l.contains("KafkaSinkImpl")
                                || l.contains("Exception"))
                    .collect(Collectors.joining("\n")))
            .isTrue();
      }
    } finally {
      producer.shutdownNow();
      processes.values().forEach(PipelineProcess::close);
    }
  }

  /**
   * A process paused (SIGSTOP) for longer than its session loses its partitions to the other
   * process; when it wakes up (SIGCONT) its member is told they are lost, and nothing it still held
   * is committed: every record reaches the output once and each partition's committed ranges tile
   * its log, although for a while two processes held the same partitions.
   */
  @Test
  void aMemberPausedPastItsSessionLosesItsPartitionsAndCommitsNoneOfThemAgain(
      EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
    String app = "scale-out-lost-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    kafka.createTopic(in, 4);
    kafka.createTopic(out, 2);
    AtomicInteger produced = new AtomicInteger();
    ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
    Map<String, PipelineProcess> processes = new TreeMap<>();
    try {
      producer.scheduleAtFixedRate(
          () -> {
            List<ProducerRecord<String, String>> batch = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
              int n = produced.getAndIncrement();
              batch.add(new ProducerRecord<>(in, n % 4, "k" + n, value(n)));
            }
            kafka.produce(batch);
          },
          0,
          100,
          TimeUnit.MILLISECONDS);
      for (String name : List.of("p1", "p2")) {
        processes.put(name, start(kafka, dir, app, in, out, name));
      }
      await()
          .atMost(Duration.ofSeconds(120))
          .until(
              () ->
                  owners(dir, processes.keySet()).size() == 2
                      && committed(dir, List.of("p1")).size() >= 2);

      Set<TopicPartition> paused = lastOwned(dir, "p1");
      long pausedAt = System.currentTimeMillis();
      signal(processes.get("p1"), "STOP");
      try {
        await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> resumedAt(dir, List.of("p2"), paused, pausedAt) > 0);
      } finally {
        signal(processes.get("p1"), "CONT");
      }
      // Woken, p1 learns that its partitions are lost (and may fail the batch it held, then stop).
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  lines(dir, "p1").stream().anyMatch(l -> l.contains("lost ["))
                      || !processes.get("p1").isAlive());
      System.out.printf(
          "GROUP_LOST p1 after waking: %s%n",
          lines(dir, "p1").stream()
              .filter(l -> l.contains("lost [") || l.contains("FAILED") || l.contains("refused"))
              .limit(3)
              .collect(Collectors.joining(" | ")));

      producer.shutdown();
      assertThat(producer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      int total = produced.get();
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> kafka.consumeAll(out, true).size() >= total);
      List<String> values =
          kafka.consumeAll(out, true).stream().map(ConsumerRecord::value).sorted().toList();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        expected.add(value(i));
      }
      assertThat(values).isEqualTo(expected);
      Map<TopicPartition, Long> ends = kafka.endOffsets(in);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> covered(dir, processes.keySet()).equals(ends));
      assertTiled(committed(dir, processes.keySet()), ends);
      assertThat(processes.get("p2").isAlive()).as("p2 runs").isTrue();
    } finally {
      producer.shutdownNow();
      for (PipelineProcess p : processes.values()) {
        try {
          signal(p, "CONT");
        } catch (AssertionError | Exception ignored) {
          // already running or gone
        }
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

  /** Kill-and-replace cycles: 1 by default, more under {@code -Pchaos}. */
  private static final int KILLS = Integer.getInteger("sluice.it.groupKills", 1);

  private static List<String> live(java.util.Collection<String> names, Set<String> killed) {
    return names.stream().filter(n -> !killed.contains(n)).toList();
  }

  private static PipelineProcess start(
      EmbeddedKafka kafka, Path dir, String app, String in, String out, String name) {
    return PipelineProcess.start(
        GroupMemberPipeline.class,
        List.of(
            kafka.bootstrapServers(), in, out, app, dir.resolve("checkpoint-" + name).toString()),
        dir.resolve(name + ".log"));
  }

  private static String value(int n) {
    return String.format("v%07d", n);
  }

  /** The processes whose latest planned batch holds at least one partition. */
  private static Set<String> owners(Path dir, java.util.Collection<String> names) {
    Set<String> out = new TreeSet<>();
    for (String name : names) {
      if (!lastOwned(dir, name).isEmpty()) {
        out.add(name);
      }
    }
    return out;
  }

  /** The partitions of the latest batch {@code name} planned. */
  private static Set<TopicPartition> lastOwned(Path dir, String name) {
    Map<Long, List<Range>> planned = planned(dir, name);
    if (planned.isEmpty()) {
      return Set.of();
    }
    return planned.get(((TreeMap<Long, List<Range>>) planned).lastKey()).stream()
        .map(Range::tp)
        .collect(Collectors.toSet());
  }

  /**
   * When the last of {@code orphaned} was first read again, with records, by one of {@code
   * survivors} in a batch committed after {@code killedAt}; 0 while one is still waiting.
   */
  private static long resumedAt(
      Path dir, List<String> survivors, Set<TopicPartition> orphaned, long killedAt) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (Committed c : committed(dir, survivors)) {
      if (c.committedAt() < killedAt) {
        continue;
      }
      for (Range r : c.ranges()) {
        if (orphaned.contains(r.tp()) && r.until() > r.from()) {
          first.merge(r.tp(), c.committedAt(), Math::min);
        }
      }
    }
    return first.keySet().containsAll(orphaned)
        ? first.values().stream().mapToLong(Long::longValue).max().orElse(0)
        : 0;
  }

  /** Every committed batch of {@code names}, with its planned ranges. */
  private static List<Committed> committed(Path dir, java.util.Collection<String> names) {
    List<Committed> out = new ArrayList<>();
    for (String name : names) {
      Map<Long, List<Range>> planned = planned(dir, name);
      for (String line : lines(dir, name)) {
        if (line.startsWith("COMMITTED ")) {
          String[] f = line.split(" ");
          long time = Long.parseLong(f[1]);
          out.add(
              new Committed(
                  name, time, Long.parseLong(f[2]), planned.getOrDefault(time, List.of())));
        }
      }
    }
    return out;
  }

  /** The next offset every committed range of each partition reaches. */
  private static Map<TopicPartition, Long> covered(Path dir, java.util.Collection<String> names) {
    Map<TopicPartition, Long> out = new HashMap<>();
    for (Committed c : committed(dir, names)) {
      for (Range r : c.ranges()) {
        out.merge(r.tp(), r.until(), Math::max);
      }
    }
    return out;
  }

  private static void assertTiled(List<Committed> committed, Map<TopicPartition, Long> ends) {
    Map<TopicPartition, List<Range>> byPartition = new HashMap<>();
    for (Committed c : committed) {
      for (Range r : c.ranges()) {
        if (r.until() > r.from()) {
          byPartition.computeIfAbsent(r.tp(), k -> new ArrayList<>()).add(r);
        }
      }
    }
    assertThat(byPartition.keySet()).isEqualTo(ends.keySet());
    byPartition.forEach(
        (tp, ranges) -> {
          ranges.sort(Comparator.comparingLong(Range::from));
          long next = 0;
          for (Range r : ranges) {
            assertThat(r.from()).as("%s: range %s after %d", tp, r, next).isEqualTo(next);
            next = r.until();
          }
          assertThat(next).as("%s reaches its end", tp).isEqualTo(ends.get(tp));
        });
  }

  private static Map<Long, List<Range>> planned(Path dir, String name) {
    Map<Long, List<Range>> out = new TreeMap<>();
    for (String line : lines(dir, name)) {
      if (line.startsWith("PLANNED ")) {
        String[] f = line.split(" ", 3);
        List<Range> ranges = new ArrayList<>();
        if (f.length == 3 && !f[2].isBlank()) {
          for (String part : f[2].trim().split(",")) {
            String[] tpAndRange = part.split(":");
            String[] topicAndPartition = tpAndRange[0].split("/");
            String[] fromUntil = tpAndRange[1].split("-");
            ranges.add(
                new Range(
                    new TopicPartition(
                        topicAndPartition[0], Integer.parseInt(topicAndPartition[1])),
                    Long.parseLong(fromUntil[0]),
                    Long.parseLong(fromUntil[1])));
          }
        }
        out.put(Long.parseLong(f[1]), ranges);
      }
    }
    return out;
  }

  private static List<String> lines(Path dir, String name) {
    try {
      Path log = dir.resolve(name + ".log");
      return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
