package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Keyed state and windows across SIGKILLs: the {@link StatefulChaosPipeline} JVM is killed at
 * random moments (as in {@link KillRestartChaosTest}), restarted each time, and a last run finishes
 * the input.
 *
 * <p>Counts: a running count per record key in {@code updateStateByKey} or {@code mapWithState}
 * state, upserted exactly once to PostgreSQL with the offsets in the same transaction. At the end
 * every key's count equals its records in the input topic, and in every committed batch it moved by
 * exactly the records the batch added. {@code -Dsluice.it.kills} kills per pipeline (default 20,
 * the {@code chaos} profile 200), {@code -Dsluice.it.stateRecords} the input size (default 40,000
 * over {@value #KEYS} skewed keys), {@code -Dsluice.it.seed} replays the kills.
 *
 * <p>Windows: a window of 6 batches sliding by 2, one row per window time, across a quarter as many
 * kills (at least 4). The offset store keeps the history of every committed batch (its time and
 * ranges, committed with the window rows, or by the input alone in the batches between slides); the
 * check proves that the history tiles every partition of the input (every record in exactly one
 * committed batch), that a window was written for exactly the committed batches at multiples of the
 * slide, and that each one holds the records of the committed batches whose times lie in (window
 * time - 6 intervals, window time]: its count, sum, minimum and maximum of the values. A window
 * reaching back before the first batch, or over a stretch in which no batches ran (a dead JVM),
 * holds the batches that exist: the same definition on both sides. A window whose time fell while
 * no JVM ran is never computed (the restarted grid starts after the restart), so a batch committed
 * just before a kill may lie in no written window; the summary line counts them. {@code
 * -Dsluice.it.windowRecords} sets that input's size (default 20,000).
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class StatefulKillRestartChaosTest {

  static final long N = Long.getLong("sluice.it.stateRecords", 40_000);
  static final long WINDOW_N = Long.getLong("sluice.it.windowRecords", 20_000);
  static final int KILLS = KillRestartChaosTest.KILLS;
  static final int WINDOW_KILLS = Math.max(4, KILLS / 4);
  static final int KEYS = 1000;
  static final String INPUT = "chaos-state-input";
  static final String WINDOW_INPUT = "chaos-window-input";
  static final long INTERVAL_MS = 100;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @BeforeAll
  static void produceInput(EmbeddedKafka kafka) {
    produceKeyed(kafka, INPUT, N);
    produceKeyed(kafka, WINDOW_INPUT, WINDOW_N);
  }

  /**
   * Produces {@code n} records valued 0 .. n-1, round-robin over the partitions, keyed {@code k<i>}
   * with a skew (low keys are frequent, so keys range from thousands of records to a few).
   */
  private static void produceKeyed(EmbeddedKafka kafka, String topic, long n) {
    kafka.createTopic(topic, ChaosRun.PARTITIONS);
    Random random = new Random(n);
    int chunk = 50_000;
    for (long from = 0; from < n; from += chunk) {
      List<ProducerRecord<String, String>> records = new ArrayList<>();
      for (long i = from; i < Math.min(n, from + chunk); i++) {
        double r = random.nextDouble();
        String key = "k" + (int) (KEYS * r * r);
        records.add(
            new ProducerRecord<>(topic, (int) (i % ChaosRun.PARTITIONS), key, Long.toString(i)));
      }
      kafka.produce(records);
    }
    long total = kafka.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    assertThat(total).as("input records in %s", topic).isEqualTo(n);
  }

  /** As {@link KillRestartChaosTest#ratePerPartition()}: about 2.5 batches per kill. */
  private static long ratePerPartition(long n, int kills) {
    return Math.max(100, Math.min(10_000, n / kills));
  }

  @ParameterizedTest
  @ValueSource(strings = {"updateStateByKey", "mapWithState"})
  void runningCountPerKeyEqualsItsRecordsAcrossRandomKills(
      String operator, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    ChaosRun run =
        ChaosRun.stateful(
            operator, kafka, pg, INPUT, N, "chaos-state-" + operator.toLowerCase(), tmp);
    run.rate(INTERVAL_MS, ratePerPartition(N, KILLS));
    survivesKills(run, KILLS, () -> assertCounts(kafka, pg, run));
  }

  @Test
  void windowsAcrossKillsEqualTheWindowsRecomputedFromTheInput(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    ChaosRun run =
        ChaosRun.stateful("windows", kafka, pg, WINDOW_INPUT, WINDOW_N, "chaos-windows", tmp);
    run.rate(INTERVAL_MS, ratePerPartition(WINDOW_N, 4 * WINDOW_KILLS));
    survivesKills(run, WINDOW_KILLS, () -> assertWindows(kafka, pg, run));
  }

  private static void survivesKills(ChaosRun run, int kills, Runnable check) {
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    System.out.printf(
        "[%s] seed %d (-Dsluice.it.seed=%d), %d kills%n", run.appName(), seed, seed, kills);
    long start = System.nanoTime();
    Faults.withLogOnFailure(
        run,
        () -> {
          run.killRepeatedly(kills, new Random(seed));
          long killed = System.nanoTime();
          run.runToCompletion(Duration.ofMinutes(3), 3, null);
          check.run();
          System.out.printf(
              "%s; kill phase %.1f s, final run %.1f s%n",
              run.summary(), (killed - start) / 1e9, (System.nanoTime() - killed) / 1e9);
          Faults.assertNoSelfExits(run);
        });
  }

  // ---------------------------------------------------------------- counts

  private static void assertCounts(EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, ChaosRun run) {
    Map<String, Long> expected = new TreeMap<>();
    for (ConsumerRecord<String, String> r : kafka.consumeAll(INPUT, true)) {
      expected.merge(r.key(), 1L, Long::sum);
    }
    assertThat(expected.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(N);
    Map<String, Long> counts = new TreeMap<>();
    Map<String, Long> added = new TreeMap<>();
    List<String> mismatched = new ArrayList<>();
    for (List<Object> row :
        query(
            pg,
            "SELECT k, count, added, mismatches, first_mismatch, batches FROM " + run.table())) {
      String k = (String) row.get(0);
      counts.put(k, (Long) row.get(1));
      added.put(k, (Long) row.get(2));
      if ((Long) row.get(3) > 0) {
        mismatched.add(
            k
                + ": in "
                + row.get(3)
                + " of "
                + row.get(5)
                + " batches, first at batch time "
                + row.get(4));
      }
    }
    assertThat(added)
        .as("[%s] records per key the sink added (no state involved)", run.appName())
        .isEqualTo(expected);
    assertThat(mismatched)
        .as("[%s] keys whose count moved by other than the batch's records", run.appName())
        .isEmpty();
    assertThat(counts)
        .as("[%s] each key's count from the state vs its records in %s", run.appName(), INPUT)
        .isEqualTo(expected);
    System.out.printf(
        "[%s] %d keys, counts %d..%d%n",
        run.appName(),
        counts.size(),
        counts.values().stream().mapToLong(Long::longValue).min().orElse(0),
        counts.values().stream().mapToLong(Long::longValue).max().orElse(0));
  }

  // ---------------------------------------------------------------- windows

  private static void assertWindows(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg, ChaosRun run) {
    String t = run.table();
    assertThat(
            query(
                pg,
                "SELECT t || ' x' || count(*) FROM "
                    + t
                    + " GROUP BY t HAVING count(*) > 1 ORDER BY t LIMIT 20"))
        .as("[%s] windows written more than once", run.appName())
        .isEmpty();
    long[][] values = valuesByPartition(kafka);
    List<BatchCommit> batches = committedBatches(pg, run);
    assertTiles(run, batches, values);

    Map<Long, long[]> windows = new TreeMap<>();
    for (List<Object> r : query(pg, "SELECT t, count, sum, min, max FROM " + t)) {
      windows.put(
          (Long) r.get(0),
          new long[] {(Long) r.get(1), (Long) r.get(2), (Long) r.get(3), (Long) r.get(4)});
    }
    long slide = StatefulChaosPipeline.SLIDE_BATCHES * INTERVAL_MS;
    long length = StatefulChaosPipeline.WINDOW_BATCHES * INTERVAL_MS;
    TreeSet<Long> due = new TreeSet<>();
    batches.stream()
        .mapToLong(b -> b.batchTime().toEpochMilli())
        .filter(b -> Math.floorMod(b, slide) == 0)
        .forEach(due::add);
    assertThat(windows.keySet())
        .as("[%s] window times: the committed batches at multiples of the slide", run.appName())
        .containsExactlyElementsOf(due);

    List<String> wrong = new ArrayList<>();
    int nonEmpty = 0;
    for (Map.Entry<Long, long[]> w : windows.entrySet()) {
      long time = w.getKey();
      long[] want = {0, 0, Long.MAX_VALUE, Long.MIN_VALUE};
      List<Long> in = new ArrayList<>();
      for (BatchCommit b : batches) {
        long bt = b.batchTime().toEpochMilli();
        if (bt > time - length && bt <= time) {
          in.add(b.batchId());
          for (OffsetRange r : b.ranges()) {
            for (long o = r.fromOffset(); o < r.untilOffset(); o++) {
              long v = values[r.partition()][(int) o];
              want[0]++;
              want[1] += v;
              want[2] = Math.min(want[2], v);
              want[3] = Math.max(want[3], v);
            }
          }
        }
      }
      if (want[0] == 0) {
        want[2] = 0;
        want[3] = 0;
      } else {
        nonEmpty++;
      }
      if (!Arrays.equals(w.getValue(), want) && wrong.size() < 20) {
        wrong.add(
            "window "
                + time
                + " (count, sum, min, max) was "
                + Arrays.toString(w.getValue())
                + ", recomputed "
                + Arrays.toString(want)
                + " over batches "
                + in);
      }
    }
    assertThat(wrong).as("[%s] windows unlike their recomputation", run.appName()).isEmpty();
    assertThat(nonEmpty).as("[%s] windows holding records", run.appName()).isPositive();
    System.out.printf(
        "[%s] %d committed batches, %d windows (%d with records) equal their recomputation; %s%n",
        run.appName(), batches.size(), windows.size(), nonEmpty, inNoWindow(batches, windows));
  }

  /**
   * The committed batches with records that no written window holds: those whose every window time
   * fell while no JVM ran (no batch runs at such a time, so its window is never computed).
   */
  private static String inNoWindow(List<BatchCommit> batches, Map<Long, long[]> windows) {
    long length = StatefulChaosPipeline.WINDOW_BATCHES * INTERVAL_MS;
    long records = 0;
    List<Long> ids = new ArrayList<>();
    for (BatchCommit b : batches) {
      long bt = b.batchTime().toEpochMilli();
      long n = b.ranges().stream().mapToLong(OffsetRange::count).sum();
      if (n > 0 && windows.keySet().stream().noneMatch(w -> bt > w - length && bt <= w)) {
        ids.add(b.batchId());
        records += n;
      }
    }
    return ids.size() + " batches with records (" + records + " records) in no window: " + ids;
  }

  /** Every committed batch, from the offset store's history, in batch time order. */
  private static List<BatchCommit> committedBatches(EmbeddedPostgresDatabase pg, ChaosRun run) {
    JdbcOffsetStore store =
        OffsetStores.jdbcBuilder()
            .dataSource(pg.dataSource())
            .historyRetention(StatefulChaosPipeline.HISTORY)
            .build();
    try {
      List<BatchCommit> batches = new ArrayList<>(store.history(run.appName(), Integer.MAX_VALUE));
      batches.sort(Comparator.comparing(BatchCommit::batchTime));
      for (int i = 1; i < batches.size(); i++) {
        assertThat(batches.get(i).batchId())
            .as("[%s] batch ids rise with batch times", run.appName())
            .isGreaterThan(batches.get(i - 1).batchId());
      }
      return batches;
    } finally {
      store.close();
    }
  }

  /** The input's values, by partition and offset (the topic has no transaction markers). */
  private static long[][] valuesByPartition(EmbeddedKafka kafka) {
    Map<Integer, List<ConsumerRecord<String, String>>> byPartition = new HashMap<>();
    for (ConsumerRecord<String, String> r : kafka.consumeAll(WINDOW_INPUT, true)) {
      byPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r);
    }
    long[][] values = new long[ChaosRun.PARTITIONS][];
    for (int p = 0; p < ChaosRun.PARTITIONS; p++) {
      List<ConsumerRecord<String, String>> records = byPartition.getOrDefault(p, List.of());
      values[p] = new long[records.size()];
      for (ConsumerRecord<String, String> r : records) {
        values[p][(int) r.offset()] = Long.parseLong(r.value());
      }
    }
    return values;
  }

  /**
   * Asserts that each partition's committed ranges, in batch order, follow each other from offset 0
   * to the end of the input: every record in exactly one committed batch.
   */
  private static void assertTiles(ChaosRun run, List<BatchCommit> batches, long[][] values) {
    List<String> problems = new ArrayList<>();
    long[] next = new long[ChaosRun.PARTITIONS];
    for (BatchCommit b : batches) {
      for (OffsetRange r : b.ranges()) {
        if (!r.isEmpty() && r.fromOffset() != next[r.partition()]) {
          problems.add("batch " + b.batchId() + " reads " + r + " after " + next[r.partition()]);
        }
        next[r.partition()] = r.untilOffset();
      }
    }
    for (int p = 0; p < ChaosRun.PARTITIONS; p++) {
      if (next[p] != values[p].length) {
        problems.add(
            "partition " + p + ": committed ranges end at " + next[p] + " of " + values[p].length);
      }
    }
    assertThat(problems)
        .as("[%s] committed batches' ranges tiling the input", run.appName())
        .isEmpty();
  }

  // ---------------------------------------------------------------- SQL

  private static List<List<Object>> query(EmbeddedPostgresDatabase pg, String sql) {
    List<List<Object>> rows = new ArrayList<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<Object> row = new ArrayList<>(columns);
        for (int i = 1; i <= columns; i++) {
          row.add(rs.getObject(i));
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }
}
