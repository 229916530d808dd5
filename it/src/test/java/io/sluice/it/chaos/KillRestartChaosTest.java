package io.sluice.it.chaos;

import io.sluice.it.chaos.ChaosRun.Kind;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the pipeline JVM with SIGKILL at random moments, restarts it each time, lets a last run
 * finish, and checks that every input record reached the output exactly once. {@code
 * -Dsluice.it.kills} sets the kills per pipeline (default 20; the {@code chaos} profile runs 200),
 * {@code -Dsluice.it.seed} replays a run, {@code -Dsluice.it.records} changes N (default 200,000).
 * The Kafka pipeline's stream keeps its offsets in the Kafka offset store, so two transactional
 * writers (the KafkaSink's producer and the store's) commit the same consumer group and a kill can
 * leave either one's transaction open: the restart must abort both at once (the sink when it opens,
 * the store when the stream claims the group) and never exit by itself. {@code
 * -Dsluice.it.kafkaOffsetStore=none} gives the stream no offset store: it reads its position from
 * the consumer group the KafkaSink commits to (a file store is refused at start: the KafkaSink is
 * the one committer of the offsets, and the stream must restart from where that sink commits).
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class KillRestartChaosTest {

  static final long N = Long.getLong("sluice.it.records", 200_000);
  static final int KILLS = Integer.getInteger("sluice.it.kills", 20);
  static final String INPUT = "chaos-kill-input";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @BeforeAll
  static void produceInput(EmbeddedKafka kafka) {
    ChaosRun.produceInput(kafka, INPUT, N);
  }

  @Test
  void jdbcPipelineWritesEveryRecordExactlyOnceAcrossRandomKills(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    survivesRandomKills(new ChaosRun(Kind.JDBC, kafka, pg, INPUT, N, "chaos-kill-jdbc", tmp));
  }

  @Test
  void kafkaPipelineWritesEveryRecordExactlyOnceAcrossRandomKills(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    String store = System.getProperty("sluice.it.kafkaOffsetStore", "kafka");
    survivesRandomKills(
        new ChaosRun(Kind.KAFKA, kafka, pg, INPUT, N, "chaos-kill-kafka-" + store, tmp)
            .arg("offsetStore", store));
  }

  /**
   * The per-partition rate: batches of about N / (2.5 × kills) records, so that the kills, each
   * letting a run commit about one batch, leave input to read until the last one (10,000/s for 20
   * kills, 1,000/s for 200).
   */
  static long ratePerPartition() {
    return Math.max(500, Math.min(10_000, N / KILLS));
  }

  private static void survivesRandomKills(ChaosRun run) {
    run.rate(100, ratePerPartition());
    long seed = Long.getLong("sluice.it.seed", System.nanoTime());
    System.out.printf(
        "[%s] seed %d (-Dsluice.it.seed=%d), %d kills, N=%d, %d records/s per partition%n",
        run.appName(), seed, seed, KILLS, N, ratePerPartition());
    long start = System.nanoTime();
    Faults.withLogOnFailure(
        run,
        () -> {
          run.killRepeatedly(KILLS, new Random(seed));
          long killed = System.nanoTime();
          run.runToCompletion(Duration.ofMinutes(3), 3, null);
          run.assertExactlyOnce();
          System.out.printf(
              "%s; kill phase %.1f s, final run %.1f s%n",
              run.summary(), (killed - start) / 1e9, (System.nanoTime() - killed) / 1e9);
          Faults.assertNoSelfExits(run);
        });
  }
}
