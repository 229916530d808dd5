package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.examples.CountingMember;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
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
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keyed state across processes in group mode: three child JVMs of {@link CountingMember} share a
 * keyed topic through the consumer group, each keeping a {@code mapWithState} running count per key
 * for the partitions it owns and inserting {@code (key, count)} exactly once into PostgreSQL. One
 * is killed with SIGKILL while records keep coming; its partitions, with their counts restored from
 * {@code sluice_state}, move to the survivors; a replacement joins. Every key's rows are exactly 1,
 * 2, ..., n: a lost state would count a key from 1 again, a batch applied twice would repeat or
 * skip a count.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class GroupStatefulScaleOutTest {

  private static final int KEYS = 50;

  private static final int PARTITIONS = 6;

  /** Kill-and-replace cycles: 1 by default, more under {@code -Pchaos}. */
  private static final int KILLS = Integer.getInteger("sluice.it.groupKills", 1);

  /** A completed batch as one process printed it. */
  record BatchLine(String process, long completedAt, long records, Set<Integer> partitions) {}

  @Test
  void countsPerKeyStayExactWhenAProcessIsKilledAndItsPartitionsMove(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, @TempDir Path dir) throws Exception {
    String app = "group-stateful-" + System.nanoTime();
    String in = "in-" + app;
    String table = "counts_" + System.nanoTime() % 1_000_000;
    kafka.createTopic(in, PARTITIONS);
    DataSource ds = db.dataSource();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(String.format(CountingMember.DDL, table));
    }
    AtomicInteger produced = new AtomicInteger();
    ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
    Map<String, PipelineProcess> processes = new TreeMap<>();
    // Creates the offset tables before the members start, so that they do not race to.
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      producer.scheduleAtFixedRate(
          () -> {
            List<ProducerRecord<String, String>> batch = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
              int n = produced.getAndIncrement();
              batch.add(new ProducerRecord<>(in, key(n), "v" + n));
            }
            kafka.produce(batch);
          },
          0,
          100,
          TimeUnit.MILLISECONDS);
      // p1 first: its first batch creates sluice_state; then p2 and p3 join and take partitions
      // from p1 with their counts.
      processes.put("p1", start(kafka, db, dir, app, in, table, "p1"));
      waitFor(
          "p1's first batch with records",
          processes,
          dir,
          () -> batches(dir, List.of("p1")).stream().anyMatch(b -> b.records() > 0));
      processes.put("p2", start(kafka, db, dir, app, in, table, "p2"));
      processes.put("p3", start(kafka, db, dir, app, in, table, "p3"));
      waitFor(
          "p1, p2 and p3 to own partitions",
          processes,
          dir,
          () -> owners(dir, processes.keySet()).size() == 3);

      // SIGKILL one process, then start a replacement, KILLS times.
      List<Long> pauses = new ArrayList<>();
      Set<String> killed = new TreeSet<>();
      int next = 4;
      for (int cycle = 0; cycle < KILLS; cycle++) {
        List<String> owners = new ArrayList<>(owners(dir, live(processes.keySet(), killed)));
        String victim = owners.get(cycle % owners.size());
        Set<Integer> moved = lastOwned(dir, victim);
        assertThat(moved).isNotEmpty();
        long killedAt = System.currentTimeMillis();
        assertThat(processes.get(victim).kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
        killed.add(victim);
        List<String> survivors = live(processes.keySet(), killed);
        waitFor(
            "partitions " + moved + " of " + victim + " to be committed by " + survivors,
            processes,
            dir,
            () -> resumedAt(dir, survivors, moved, killedAt) > 0);
        long pause = resumedAt(dir, survivors, moved, killedAt) - killedAt;
        pauses.add(pause);
        System.out.printf(
            "GROUP_STATEFUL kill->resumed %d ms for partitions %s of %s%n", pause, moved, victim);
        String fresh = "p" + next++;
        processes.put(fresh, start(kafka, db, dir, app, in, table, fresh));
        waitFor(
            fresh + " to own partitions",
            processes,
            dir,
            () -> owners(dir, List.of(fresh)).contains(fresh));
      }
      List<Long> sorted = pauses.stream().sorted().toList();
      System.out.printf(
          "GROUP_STATEFUL %d kills: kill->resumed min %d median %d max %d ms; restores logged: %d%n",
          sorted.size(),
          sorted.get(0),
          sorted.get(sorted.size() / 2),
          sorted.get(sorted.size() - 1),
          processes.keySet().stream()
              .flatMap(p -> lines(dir, p).stream())
              .filter(l -> l.contains("restored") && l.contains("keys of input partition"))
              .count());
      producer.shutdown();
      assertThat(producer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      int total = produced.get();

      // One row per produced record.
      waitFor(total + " rows in " + table, processes, dir, () -> rowCount(ds, table) >= total);
      System.out.printf("GROUP_STATEFUL %d records over %d keys counted%n", total, KEYS);
      Map<String, List<Long>> counts = counts(ds, table);
      Map<String, Long> perKey = new TreeMap<>();
      for (int n = 0; n < total; n++) {
        perKey.merge(key(n), 1L, Long::sum);
      }
      assertThat(counts.keySet()).isEqualTo(perKey.keySet());
      perKey.forEach(
          (key, n) ->
              assertThat(counts.get(key))
                  .as("counts of key %s", key)
                  .isEqualTo(LongStream.rangeClosed(1, n).boxed().toList()));
      // The changelog holds every key once, with its final count under one partition.
      assertThat(stateRows(ds, app)).isEqualTo(List.of((long) KEYS, (long) KEYS));
      assertThat(store.committed(app)).isEqualTo(kafka.endOffsets(in));
      // No batch failed in a process that was not killed.
      for (String name : live(processes.keySet(), killed)) {
        assertThat(lines(dir, name).stream().filter(l -> l.startsWith("FAILED ")).toList())
            .as("FAILED lines of %s", name)
            .isEmpty();
        assertThat(processes.get(name).isAlive()).as("%s runs", name).isTrue();
      }
    } finally {
      producer.shutdownNow();
      processes.values().forEach(PipelineProcess::close);
    }
  }

  /**
   * Waits up to 90 s for {@code condition}; on time-out fails with the tail of every process's log.
   */
  private static void waitFor(
      String what,
      Map<String, PipelineProcess> processes,
      Path dir,
      java.util.concurrent.Callable<Boolean> condition) {
    try {
      await().atMost(Duration.ofSeconds(90)).until(condition);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      StringBuilder logs = new StringBuilder();
      for (String name : processes.keySet()) {
        logs.append("\n----- ")
            .append(name)
            .append(" (last 40 lines)\n")
            .append(PipelineProcess.tail(dir.resolve(name + ".log"), 40));
      }
      throw new AssertionError("timed out waiting for " + what + logs, e);
    }
  }

  private static String key(int n) {
    return "k" + (n % KEYS);
  }

  private static List<String> live(Collection<String> names, Set<String> killed) {
    return names.stream().filter(n -> !killed.contains(n)).toList();
  }

  private static PipelineProcess start(
      EmbeddedKafka kafka,
      EmbeddedPostgresDatabase db,
      Path dir,
      String app,
      String in,
      String table,
      String name) {
    return PipelineProcess.start(
        CountingMember.class,
        List.of(
            kafka.bootstrapServers(),
            in,
            db.jdbcUrl(),
            db.user(),
            db.password(),
            table,
            app,
            dir.resolve("checkpoint-" + name).toString(),
            "500"),
        dir.resolve(name + ".log"));
  }

  /** The processes whose latest completed batch covered at least one partition. */
  private static Set<String> owners(Path dir, Collection<String> names) {
    Set<String> out = new TreeSet<>();
    for (String name : names) {
      if (!lastOwned(dir, name).isEmpty()) {
        out.add(name);
      }
    }
    return out;
  }

  /** The partitions of the latest batch {@code name} completed. */
  private static Set<Integer> lastOwned(Path dir, String name) {
    List<BatchLine> batches = batches(dir, List.of(name));
    return batches.isEmpty() ? Set.of() : batches.get(batches.size() - 1).partitions();
  }

  /**
   * When the last of {@code moved} was first covered by a batch one of {@code survivors} completed
   * (committed) after {@code killedAt}; 0 while one is still waiting.
   */
  private static long resumedAt(
      Path dir, List<String> survivors, Set<Integer> moved, long killedAt) {
    Map<Integer, Long> first = new HashMap<>();
    for (BatchLine b : batches(dir, survivors)) {
      if (b.completedAt() >= killedAt) {
        for (int p : b.partitions()) {
          if (moved.contains(p)) {
            first.merge(p, b.completedAt(), Math::min);
          }
        }
      }
    }
    return first.keySet().containsAll(moved)
        ? first.values().stream().mapToLong(Long::longValue).max().orElse(0)
        : 0;
  }

  /** The completed batches of {@code names}, each process's in order. */
  private static List<BatchLine> batches(Path dir, Collection<String> names) {
    List<BatchLine> out = new ArrayList<>();
    for (String name : names) {
      for (String line : lines(dir, name)) {
        if (line.startsWith("BATCH ")) {
          String[] f = line.split(" ");
          Set<Integer> parts =
              f[4].equals("-")
                  ? Set.of()
                  : java.util.Arrays.stream(f[4].split(","))
                      .map(Integer::valueOf)
                      .collect(Collectors.toSet());
          out.add(new BatchLine(name, Long.parseLong(f[3]), Long.parseLong(f[2]), parts));
        }
      }
    }
    return out;
  }

  private static int rowCount(DataSource ds, String table) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** The rows of {@code app} in {@code sluice_state} and its distinct keys. */
  private static List<Long> stateRows(DataSource ds, String app) throws Exception {
    try (Connection c = ds.getConnection();
        PreparedStatement st =
            c.prepareStatement(
                "SELECT COUNT(*), COUNT(DISTINCT state_key) FROM sluice_state WHERE app = ?")) {
      st.setString(1, app);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return List.of(rs.getLong(1), rs.getLong(2));
      }
    }
  }

  /** Each key's counts in the output, in ascending order. */
  private static Map<String, List<Long>> counts(DataSource ds, String table) throws Exception {
    Map<String, List<Long>> out = new TreeMap<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT k, n FROM " + table + " ORDER BY k, n")) {
      while (rs.next()) {
        out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
      }
    }
    return out;
  }

  /** The complete lines of {@code name}'s log (not one the process is still writing). */
  private static List<String> lines(Path dir, String name) {
    try {
      Path log = dir.resolve(name + ".log");
      if (!Files.exists(log)) {
        return List.of();
      }
      String text = Files.readString(log, StandardCharsets.UTF_8);
      List<String> all = new ArrayList<>(List.of(text.split("\n", -1)));
      all.remove(all.size() - 1); // after the last newline: empty, or a line being written
      return all;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
