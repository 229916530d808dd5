package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.it.chaos.ChaosRun.Kind;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The narrowest crash window of the protocol, hit on purpose instead of by chance: the process dies
 * after a batch's output and offsets are committed but before the engine appends the batch's commit
 * record. The pipeline is killed, the newest commit record removed (the state that crash leaves
 * behind), and the restarted pipeline must not run that batch again: the sink's committed offsets
 * (the offset store, the one truth for where the stream stands) already cover it, so the restart
 * drops it from the checkpoint with a WARN and replays only what the store does not cover.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class LostCommitRecordTest {

  static final long N = Long.getLong("sluice.it.records", 200_000);
  static final String INPUT = "chaos-lost-commit-input";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @BeforeAll
  static void produceInput(EmbeddedKafka kafka) {
    ChaosRun.produceInput(kafka, INPUT, N);
  }

  /**
   * {@code KAFKA, none}: the stream has no offset store and reads its position from the consumer
   * group the KafkaSink commits to. (A file store for the Kafka pipeline is refused at start: the
   * KafkaSink is the one committer of the offsets.) The Kafka store is left out: whether it passes
   * depends on whether the kill lands inside the store's own transaction; {@link
   * KafkaStorePendingTransactionTest} puts it there on purpose.
   */
  @ParameterizedTest(name = "{0} pipeline, offset store {1}")
  @CsvSource({"JDBC, jdbc", "KAFKA, none"})
  void replayedBatchWhoseCommitRecordIsMissingIsSkipped(
      Kind kind, String store, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    runWithLostCommitRecord(kind, store, kafka, pg);
  }

  private void runWithLostCommitRecord(
      Kind kind, String store, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    String name = "lost-commit-" + kind.name().toLowerCase(Locale.ROOT) + "-" + store;
    ChaosRun run = new ChaosRun(kind, kafka, pg, INPUT, N, name, tmp).rate(200, 5_000);
    if (kind == Kind.KAFKA) {
      run.arg("offsetStore", store);
    }
    Faults.withLogOnFailure(
        run,
        () -> {
          try (PipelineProcess p = run.launch()) {
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !p.isAlive() || run.committedInput() >= N / 10);
            assertThat(p.isAlive()).as("pipeline running").isTrue();
            assertThat(p.kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
          }
          System.out.printf("[%s] %s%n", name, run.loseNewestCommitRecord());
          run.runToCompletion(Duration.ofMinutes(2), 0, null);
          run.assertExactlyOnce();
          String log = read(run.log());
          assertThat(log)
              .as("the batch the store covers is dropped from the checkpoint, not run again")
              .contains(
                  "of the checkpoint are not replayed: the inputs' committed progress already covers them");
          System.out.println(run.summary());
        });
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
