package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.EmbeddedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Keeps the harness runnable on a real embedded broker; measures nothing. */
class KafkaReadBenchTest {

  @Test
  void readsEveryRecordWithEachReader() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new KafkaReadBench(out))
            .execute("--records", "2000", "--warmup", "0", "--passes", "1");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .contains(
            "raw consumer poll loop",
            "pinned-range consumers",
            "sluice direct stream",
            "same-work limit",
            "count only",
            "sluice / same-work limit",
            "same-work limit on",
            "sluice count-only / pinned-range",
            "sluice direct stream, minPartitions 8, 2 slots",
            "sluice minPartitions 8 / sluice",
            "4 pinned-range consumers on 2 threads, same work, each fetching on its own thread",
            "same-work limit on 2 threads with fetcher threads / without = ",
            "ns/record from its first batch's start to its last one's end",
            "jit compiling");
  }

  @Test
  void readsTheTopicOfARunningBrokerGivenItsAddress() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    int code;
    try (EmbeddedKafka kafka = EmbeddedKafka.startNew()) {
      kafka.createTopic("bench-read", 4);
      BenchData.produce(kafka, "bench-read", 4, 3000, 100);
      code =
          new CommandLine(new KafkaReadBench(out))
              .execute(
                  "--bootstrap-servers",
                  kafka.bootstrapServers(),
                  "--records",
                  "3000",
                  "--readers",
                  "limit,sluice",
                  "--warmup",
                  "0",
                  "--passes",
                  "1");
    }
    String printed = buf.toString(StandardCharsets.UTF_8);
    // each reader checks that it read exactly --records records, or the bench fails
    assertThat(code).as(printed).isZero();
    assertThat(printed).contains("broker: external, at ", "sluice / same-work limit = ");
  }

  @Test
  void pacedRunsTheStreamOnTheSystemClockAndDividesByItsBatchesProcessing() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new KafkaReadBench(out))
            .execute(
                "--records",
                "2000",
                "--readers",
                "sluice",
                "--paced",
                "--batches-per-pass",
                "2",
                "--warmup",
                "0",
                "--passes",
                "1");

    String printed = buf.toString(StandardCharsets.UTF_8);
    // the reader checks that it read exactly --records records, or the bench fails
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .contains("Sluice clock: the system's, one batch a second (--paced)")
        .containsPattern("s of processing in batches with records \\(stopped after [0-9.]+ s\\)")
        .contains(" batches (2 with records)");
  }

  @Test
  void contenderBrokerRunsTheCommandWithTheBrokersAddressAndReturnsItsExitCode() {
    int code =
        new CommandLine(new ContenderBroker())
            .execute(
                "--records",
                "1000",
                "--",
                "sh",
                "-c",
                "case \"$BOOTSTRAP_SERVERS\" in 127.0.0.1:*) exit 3;; *) exit 1;; esac");
    assertThat(code).isEqualTo(3);
  }
}
