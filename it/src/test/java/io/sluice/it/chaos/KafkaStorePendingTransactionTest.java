package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.it.chaos.ChaosRun.Kind;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka pipeline with the Kafka offset store, killed while the store's own transaction
 * (transactional id {@code sluice-offsets-<group>}) held the group's offsets. The restarted stream
 * claims the group ({@code OffsetStore.claim}) before reading it, which fences the dead committer
 * and aborts its open transaction at once; before that fix the first stable read waited until the
 * broker timed the transaction out (60 s by default) and the restart failed for about a minute. No
 * record may be lost or doubled, and the restart must not exit by itself. The kill inside the
 * store's transaction is made deterministic by a stand-in committer with the store's transactional
 * id, killed inside its transaction.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class KafkaStorePendingTransactionTest {

  static final long N = 200_000;
  static final String INPUT = "chaos-pending-input";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @Test
  void restartIsNotBlockedByTheKafkaStoreTransactionAKillLeftOpen(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    ChaosRun.produceInput(kafka, INPUT, N);
    String name = "pending-kafka-store";
    ChaosRun run =
        new ChaosRun(Kind.KAFKA, kafka, pg, INPUT, N, name, tmp)
            .rate(200, 5_000)
            .arg("offsetStore", "kafka");
    Faults.withLogOnFailure(
        run,
        () -> {
          try (PipelineProcess p = run.launch()) {
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !p.isAlive() || run.committedInput() >= N / 10);
            assertThat(p.kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
          }
          List<String> args =
              new ArrayList<>(List.of(kafka.bootstrapServers(), "sluice-offsets-" + name, name));
          for (Map.Entry<TopicPartition, OffsetAndMetadata> e :
              kafka.committedOffsets(name).entrySet()) {
            args.add(
                e.getKey().topic() + ":" + e.getKey().partition() + ":" + e.getValue().offset());
          }
          try (PipelineProcess zombie =
              PipelineProcess.start(PendingOffsetCommit.class, args, tmp.resolve("zombie.log"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> zombie.output().contains("READY"));
            assertThat(zombie.kill()).isEqualTo(PipelineProcess.SIGKILL_EXIT);
          }
          long t0 = System.nanoTime();
          run.runToCompletion(Duration.ofMinutes(3), 5, null);
          double seconds = (System.nanoTime() - t0) / 1e9;
          run.assertExactlyOnce();
          System.out.printf("%s; completed %.1f s after the restart%n", run.summary(), seconds);
          assertThat(run.selfExits)
              .as("runs failed by the pending transaction (%.1f s to complete)", seconds)
              .isEmpty();
        });
  }
}
