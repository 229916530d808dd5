package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL against a stream whose commit overlaps the next batch: {@link AtLeastOncePipeline} (a
 * direct stream committing its own offsets to its consumer group, an at-least-once PostgreSQL
 * output) is killed at random moments and restarted each time, then left to drain. No record may be
 * lost, a run writes a record once, and a killed run's records written again by a later run all
 * come from its last two batches: the batch whose commit was in flight and the one whose output ran
 * beside it — never from an older batch (that would mean a later commit overtook an earlier one).
 * The log must show the overlap at work (a batch started before the previous one was reported
 * completed), and the group's committed offsets end at the input's end. Batches of 400 records
 * every 20 ms keep the stream behind, so batches run back to back and a kill can land while a
 * commit overlaps the next batch's output.
 *
 * <p>{@code -Dsluice.it.atLeastOnceKills} sets the kills (default 5; the {@code chaos} profile runs
 * 20), {@code -Dsluice.it.seed} replays a run.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class AtLeastOnceKillTest {

  static final int KILLS = Integer.getInteger("sluice.it.atLeastOnceKills", 5);
  static final long N = 60_000;

  private static final Pattern EVENT = Pattern.compile("^BATCH_(STARTED|COMPLETED) (\\d+)");

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @Test
  void killedRunsReplayAtMostTheirLastTwoBatchesAndLoseNothing(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) throws Exception {
    String topic = "at-least-once-" + System.nanoTime() % 1_000_000;
    String group = "g-" + topic;
    String table = "alo_" + System.nanoTime() % 1_000_000;
    ChaosRun.produceInput(kafka, topic, N);
    DataSource ds = pg.dataSource();
    Sql.execute(
        ds, "CREATE TABLE " + table + " (n BIGINT NOT NULL, batch_id BIGINT NOT NULL, run BIGINT)");
    Path log = tmp.resolve("pipeline.log");
    List<String> args =
        List.of(
            "--bootstrap=" + kafka.bootstrapServers(),
            "--inputTopic=" + topic,
            "--group=" + group,
            "--checkpointDir=" + Files.createDirectories(tmp.resolve("checkpoint")),
            "--jdbcUrl=" + pg.jdbcUrl(),
            "--jdbcUser=" + pg.user(),
            "--jdbcPassword=" + pg.password(),
            "--table=" + table,
            "--batchIntervalMs=20",
            "--maxRatePerPartition=5000");
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf(
        "[at-least-once] seed %d (-Dsluice.it.seed=%d), %d kills%n", seed, seed, KILLS);

    List<Long> runs = new ArrayList<>(); // pids in start order; the last one drains
    List<String> positions = new ArrayList<>();
    boolean overlapSeen = false;
    try {
      for (int i = 0; i < KILLS; i++) {
        try (PipelineProcess p = PipelineProcess.start(AtLeastOncePipeline.class, args, log)) {
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(10))
              .until(() -> !p.isAlive() || p.output().contains("BATCH_COMPLETED"));
          ChaosRun.pause(random.nextInt(1_500));
          assertThat(p.isAlive()).as("run %d is alive: %s", i, p.output()).isTrue();
          positions.add(p.position());
          assertThat(p.kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
          runs.add(p.pid());
          overlapSeen |= overlapped(p.output());
        }
      }
      try (PipelineProcess p = PipelineProcess.start(AtLeastOncePipeline.class, args, log)) {
        Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> !p.isAlive() || committedAll(kafka, group, ends));
        assertThat(p.isAlive()).as("the draining run is alive: %s", p.position()).isTrue();
        runs.add(p.pid());
        overlapSeen |= overlapped(p.output());
      }
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(
          e.getMessage() + "\n----- pipeline log tail -----\n" + PipelineProcess.tail(log, 60), e);
    }
    System.out.printf("[at-least-once] kills at %s%n", positions);
    assertThat(overlapSeen)
        .as("a batch started before the previous one was reported completed (commit overlap)")
        .isTrue();

    assertThat(
            Sql.strings(
                ds,
                "SELECT g::text FROM generate_series(0, "
                    + (N - 1)
                    + ") g WHERE NOT EXISTS (SELECT 1 FROM "
                    + table
                    + " t WHERE t.n = g) ORDER BY g LIMIT 20"))
        .as("lost records (first 20)")
        .isEmpty();
    assertThat(
            Sql.strings(
                ds,
                "SELECT n || ' run ' || run FROM "
                    + table
                    + " GROUP BY n, run HAVING count(*) > 1 ORDER BY n LIMIT 20"))
        .as("records one run wrote twice (first 20)")
        .isEmpty();
    // A killed run's records that a later run wrote again: only from its last two batches (a
    // replayed batch may keep its id: the checkpoint replays a planned batch as it was).
    List<String> olderReplays = new ArrayList<>();
    long replayed = 0;
    for (int i = 0; i < runs.size() - 1; i++) {
      long run = runs.get(i);
      String later =
          runs.subList(i + 1, runs.size()).toString().replace('[', '(').replace(']', ')');
      long lastBatch =
          Sql.longValue(
              ds, "SELECT coalesce(max(batch_id), -1) FROM " + table + " WHERE run = " + run);
      String again =
          " FROM "
              + table
              + " t WHERE t.run = "
              + run
              + " AND EXISTS (SELECT 1 FROM "
              + table
              + " u WHERE u.n = t.n AND u.run IN "
              + later
              + ")";
      replayed += Sql.longValue(ds, "SELECT count(*)" + again);
      olderReplays.addAll(
          Sql.strings(
              ds,
              "SELECT 'run ' || t.run || ' batch ' || t.batch_id || ' (last "
                  + lastBatch
                  + ")'"
                  + again
                  + " AND t.batch_id < "
                  + (lastBatch - 1)
                  + " GROUP BY t.run, t.batch_id LIMIT 20"));
    }
    assertThat(olderReplays)
        .as("batches replayed although older than a killed run's last two")
        .isEmpty();
    System.out.printf(
        "[at-least-once] %d kills, %d records written again after a kill, %d rows for %d records%n",
        KILLS, replayed, Sql.longValue(ds, "SELECT count(*) FROM " + table), N);
  }

  /** Whether some batch started before the previous one was reported completed. */
  private static boolean overlapped(String output) {
    long lastCompleted = -1;
    for (String line : output.split("\n")) {
      Matcher m = EVENT.matcher(line);
      if (!m.find()) {
        continue;
      }
      long id = Long.parseLong(m.group(2));
      if (m.group(1).equals("COMPLETED")) {
        lastCompleted = Math.max(lastCompleted, id);
      } else if (lastCompleted >= 0 && id > lastCompleted + 1) {
        return true;
      }
    }
    return false;
  }

  private static boolean committedAll(
      EmbeddedKafka kafka, String group, Map<TopicPartition, Long> ends) {
    Map<TopicPartition, OffsetAndMetadata> committed = kafka.committedOffsets(group);
    return ends.entrySet().stream()
        .allMatch(
            e ->
                committed.get(e.getKey()) != null
                    && committed.get(e.getKey()).offset() == e.getValue());
  }
}
