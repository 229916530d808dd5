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
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults other than kills, each on a pipeline JVM that is restarted whenever it exits by itself:
 * the broker restarted mid-run, a task failing once mid-batch, and the sink throwing once (while
 * its transaction is open, and after it committed). Every test ends with the exactly-once check.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class FaultInjectionTest {

  static final long N = Long.getLong("sluice.it.records", 200_000);
  static final String INPUT = "chaos-fault-input";
  static final int FAIL_AT_BATCH = 3;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @BeforeAll
  static void produceInput(EmbeddedKafka kafka) {
    ChaosRun.produceInput(kafka, INPUT, N);
  }

  private ChaosRun run(Kind kind, String test, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    String name = "fault-" + test + "-" + kind.name().toLowerCase(Locale.ROOT);
    return new ChaosRun(kind, kafka, pg, INPUT, N, name, tmp).rate(200, 20_000);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void brokerRestartMidRunLosesAndDuplicatesNothing(
      Kind kind, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    ChaosRun run = run(kind, "broker", kafka, pg);
    Faults.withLogOnFailure(
        run,
        () -> {
          run.runToCompletion(
              Duration.ofMinutes(3),
              5,
              () -> {
                await()
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> run.progress() >= N / 4);
                long before = run.progress();
                long t0 = System.nanoTime();
                kafka.restart();
                System.out.printf(
                    "[%s] broker restarted at output %d in %.1f s%n",
                    run.appName(), before, (System.nanoTime() - t0) / 1e9);
              });
          run.assertExactlyOnce();
          System.out.println(
              run.summary()
                  + (run.selfExits.isEmpty() ? " (rode the restart out)" : " (restarted)"));
        });
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void taskFailingOnceMidBatchIsRetriedWithoutDuplicates(
      Kind kind, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    ChaosRun run = run(kind, "task", kafka, pg);
    Path marker = run.dir().resolve("task-failed");
    run.arg("failTaskBatch", FAIL_AT_BATCH).arg("failTaskMarker", marker);
    Faults.withLogOnFailure(
        run,
        () -> {
          run.runToCompletion(Duration.ofMinutes(2), 0, null);
          run.assertExactlyOnce();
          String log = read(run.log());
          assertThat(marker).exists();
          assertThat(log).contains("INJECTED injected task failure").contains("retrying");
          Faults.assertNoSelfExits(run);
          System.out.println(run.summary());
        });
  }

  @ParameterizedTest
  @CsvSource({"JDBC, during", "JDBC, after", "KAFKA, during", "KAFKA, after"})
  void sinkThrowingOnceFailsTheBatchAndTheRestartReplaysItExactlyOnce(
      Kind kind, String mode, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    ChaosRun run = run(kind, "sink-" + mode, kafka, pg);
    Path marker = run.dir().resolve("sink-failed");
    run.arg("failSinkBatch", FAIL_AT_BATCH).arg("failSinkMarker", marker).arg("failSinkMode", mode);
    Faults.withLogOnFailure(
        run,
        () -> {
          run.runToCompletion(Duration.ofMinutes(2), 1, null);
          run.assertExactlyOnce();
          assertThat(marker).exists();
          assertThat(run.selfExits)
              .as("the failed batch stops the pipeline once")
              .hasSize(1)
              .allSatisfy(e -> assertThat(e).startsWith("exit 1 "));
          String log = read(run.log());
          assertThat(log).contains("INJECTED").contains("CHAOS_PIPELINE_FAILED");
          if (mode.equals("after")) {
            assertThat(log)
                .as(
                    "the failed batch was committed by the sink before the failure: the store covers it,"
                        + " so the restart drops it instead of running it again")
                .contains(
                    "of the checkpoint are not replayed: the inputs' committed progress already covers them");
          } else {
            assertThat(log)
                .as("the rolled-back batch is replayed")
                .contains("replaying uncommitted batch");
          }
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
