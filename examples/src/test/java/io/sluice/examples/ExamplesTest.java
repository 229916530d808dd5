package io.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs every example briefly against one shared embedded broker and database and checks its result.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class ExamplesTest {

  private final EmbeddedKafka kafka;
  private final EmbeddedPostgresDatabase postgres;

  ExamplesTest(EmbeddedKafka kafka, EmbeddedPostgresDatabase postgres) {
    this.kafka = kafka;
    this.postgres = postgres;
  }

  private record Run(int exitCode, String output) {}

  private Run run(String command, String... args) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    List<String> all =
        new ArrayList<>(List.of(command, "--bootstrap-servers", kafka.bootstrapServers()));
    if (!List.of("wordcount", "kafka-to-kafka", "scale-out").contains(command)) {
      all.addAll(
          List.of(
              "--jdbc-url",
              postgres.jdbcUrl(),
              "--jdbc-user",
              postgres.user(),
              "--jdbc-password",
              postgres.password()));
    }
    all.addAll(List.of(args));
    int code = Examples.commandLine(out).execute(all.toArray(String[]::new));
    return new Run(code, buffer.toString(StandardCharsets.UTF_8));
  }

  @Test
  void demoWritesExactlyTheProducedRevenueAndDeadLettersEveryMalformedOrder() {
    Run r =
        run(
            "demo",
            "--duration",
            "4s",
            "--rate",
            "5000",
            "--topic",
            "demo-orders",
            "--group",
            "demo-etl",
            "--table",
            "demo_revenue",
            "--status-port",
            "0");

    assertThat(r.exitCode()).as(r.output()).isZero();
    Matcher pass =
        Pattern.compile(
                "PASS: revenue in PostgreSQL ([\\d,]+) cents == produced ([\\d,]+) cents"
                    + " \\(8 products\\); dead letters ([\\d,]+) == malformed ([\\d,]+)")
            .matcher(r.output());
    assertThat(pass.find()).as(r.output()).isTrue();
    assertThat(pass.group(1)).isEqualTo(pass.group(2));
    assertThat(pass.group(3)).isEqualTo(pass.group(4));
    assertThat(Long.parseLong(pass.group(3).replace(",", ""))).isPositive();
    assertThat(r.output())
        .containsPattern("orders-etl batch +\\d+ +records +\\d+ +processing +\\d+ ms +lag +\\d+");
    assertThat(r.output())
        .containsPattern("status page: http://127\\.0\\.0\\.1:\\d+/  \\(up while the demo runs\\)");
  }

  @Test
  void wordCountCountsWordsPerBatchAndPerWindow() {
    Run r =
        run(
            "wordcount",
            "--duration",
            "3s",
            "--rate",
            "0",
            "--repeat",
            "100",
            "--topic",
            "wc-lines",
            "--group",
            "wc",
            "--batch-interval",
            "500ms",
            "--window",
            "2s",
            "--slide",
            "1s");

    assertThat(r.exitCode()).as(r.output()).isZero();
    // The sample text is written before the stream starts, so the first batch holds all of it.
    assertThat(r.output())
        .contains("(the,400)\n(be,200)\n(dog,200)\n(fox,200)\n(to,200)\n(and,100)\n");
    assertThat(r.output()).contains("window (the,400)\nwindow (be,200)\n");
  }

  @Test
  void kafkaToKafkaWritesEveryCleanedOrderExactlyOnce() {
    Run r =
        run(
            "kafka-to-kafka",
            "--duration",
            "4s",
            "--rate",
            "3000",
            "--input",
            "k2k-orders",
            "--output",
            "k2k-clean",
            "--group",
            "k2k");

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .containsPattern(
            "PASS: output ([\\d,]+) records == \\1 cleaned input orders \\(0 duplicates, 0 missing, 0 wrong\\);"
                + " dead letters ([\\d,]+) == malformed \\2");
  }

  @Test
  void replayOfSavedBatchesEqualsTheOriginalOutputAndStopsByItself() {
    Run r =
        run(
            "replay",
            "--live-duration",
            "4s",
            "--rate",
            "3000",
            "--topic",
            "replay-orders",
            "--group",
            "replay-live",
            "--table-prefix",
            "t_");

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("replay stopped by itself after");
    assertThat(r.output())
        .containsPattern(
            "PASS: replay of batches \\d+\\.\\.\\d+: ([\\d,]+) cents in 't_revenue_replay'"
                + " == \\1 cents the live run wrote for those batches \\(8 products\\)");
  }

  @Test
  void sessionsInPostgresEqualThePlainJavaSessionsAcrossARestart() {
    Run r =
        run(
            "sessions",
            "--users",
            "20",
            "--rounds",
            "20",
            "--restart-after",
            "10",
            "--topic",
            "sessions-clicks",
            "--group",
            "sessions-test",
            "--table",
            "test_sessions");

    assertThat(r.exitCode()).as(r.output()).isZero();
    // Seeded clicks: the same sessions every run.
    assertThat(r.output())
        .contains(
            "PASS: sessions in PostgreSQL 42 == expected 42 (20 users, 263 clicks; every session's"
                + " clicks, first/last click, entry/exit page and closing batch equal)");
    assertThat(r.output())
        .contains("-- stopped after batch 9, with ")
        .containsPattern("sessions batch +22 +clicks +0 +took +\\d+ ms +sessions in PostgreSQL +42")
        .containsPattern(
            "timeout boundary: [1-9]\\d* gaps of exactly 3 batches .* [1-9]\\d* of 4 \\(new session\\)");
  }

  @Test
  void theReliableReceiverWritesEveryRecordOnceAcrossAHardStop() {
    Run r =
        run(
            "receiver",
            "--records",
            "6000",
            "--rate",
            "3000",
            "--topic",
            "receiver-readings",
            "--group",
            "receiver-test",
            "--table",
            "test_readings");

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("-- stopped hard with ")
        .contains(
            "PASS: all 6,000 records are in 'test_readings' exactly once; ZooKeeper's offsets are at"
                + " the topic's end");
  }

  @Test
  void scaleOutMovesAKilledProcesssPartitionsAndWritesEveryRecordOnce() {
    Run r =
        run(
            "scale-out",
            "--duration",
            "14s",
            "--rate",
            "300",
            "--input",
            "scale-test-in",
            "--output",
            "scale-test-out");

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .containsPattern("p1 batch \\d+ records \\d+ partitions \\[")
        .containsPattern(">>> SIGKILL p2 \\(exit code 137\\); it owned partitions \\[\\d")
        .containsPattern("partition \\d: p2 -> p[13], first committed batch \\d+ there")
        .containsPattern(
            "PASS: output ([\\d,]+) records == \\1 produced, each exactly once \\(0 duplicates, 0"
                + " missing, 0 unexpected\\); p2 killed, partitions moved \\d->p[13]");
  }

  @Test
  void everyCommandHasHelp() {
    for (String c :
        List.of(
            "demo", "wordcount", "kafka-to-kafka", "replay", "sessions", "receiver", "scale-out")) {
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
      var cl = Examples.commandLine(out);
      cl.setOut(new java.io.PrintWriter(out, true));
      assertThat(cl.execute(c, "--help")).isZero();
      assertThat(buffer.toString(StandardCharsets.UTF_8))
          .contains("--bootstrap-servers")
          .contains("--help");
    }
  }
}
