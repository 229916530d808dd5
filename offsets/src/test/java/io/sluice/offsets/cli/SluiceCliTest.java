package io.sluice.offsets.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

class SluiceCliTest {

  @TempDir Path dir;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    List<String> all = new ArrayList<>(List.of("offsets"));
    all.addAll(List.of(args));
    return SluiceCli.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
  }

  private String[] file(String command, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(command, "--store", "file", "--dir", dir.toString(), "--group", "etl"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  private Map<TopicPartition, Long> committed() {
    try (OffsetStore store = OffsetStores.file(dir)) {
      return store.committed("etl");
    }
  }

  @BeforeEach
  void twoBatches() {
    try (OffsetStore store = OffsetStores.file(dir)) {
      store.commit(
          new BatchCommit(
              "etl",
              0,
              Instant.parse("2026-11-20T10:00:00Z"),
              List.of(new OffsetRange("orders", 0, 0, 10), new OffsetRange("orders", 1, 0, 4))));
      store.commit(
          new BatchCommit(
              "etl",
              1,
              Instant.parse("2026-11-20T10:00:00.500Z"),
              List.of(new OffsetRange("orders", 0, 10, 25))));
    }
  }

  @Test
  void listPrintsTheCommittedOffsets() {
    assertThat(run(file("list"))).isZero();
    assertThat(out.toString())
        .isEqualTo(
            "group 'etl' in file("
                + realDir()
                + "), last batch 1\n"
                + "TOPIC   PARTITION  OFFSET\n"
                + "orders  0          25\n"
                + "orders  1          4\n");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void historyPrintsBatchesNewestFirst() {
    assertThat(run(file("history", "--limit", "5"))).isZero();
    assertThat(out.toString())
        .isEqualTo(
            "group 'etl' in file("
                + realDir()
                + "): 2 batches (newest first)\n"
                + "BATCH  TIME                      RECORDS  RANGES\n"
                + "1      2026-11-20T10:00:00.500Z  15       orders-0 [10, 25)\n"
                + "0      2026-11-20T10:00:00Z      14       orders-0 [0, 10), orders-1 [0, 4)\n");
  }

  @Test
  void resetIsADryRunByDefault() {
    assertThat(run(file("reset", "--to-batch", "1"))).isZero();
    assertThat(out.toString())
        .isEqualTo(
            "would reset group 'etl' in file("
                + realDir()
                + "):\n"
                + "TOPIC   PARTITION  CURRENT  NEW\n"
                + "orders  0          25       10\n"
                + "dry run: nothing changed; add --execute to apply\n");
    assertThat(committed())
        .isEqualTo(
            Map.of(new TopicPartition("orders", 0), 25L, new TopicPartition("orders", 1), 4L));
  }

  @Test
  void resetExecutesToABatchAndToOffsets() {
    assertThat(run(file("reset", "--to-batch", "0", "--execute"))).isZero();
    assertThat(out.toString()).endsWith("done: group 'etl' now at batch 2\n");
    assertThat(committed())
        .isEqualTo(
            Map.of(new TopicPartition("orders", 0), 0L, new TopicPartition("orders", 1), 0L));

    assertThat(run(file("reset", "--topic", "orders", "--to-offset", "1:3,2:9", "--execute")))
        .isZero();
    assertThat(committed())
        .isEqualTo(
            Map.of(
                new TopicPartition("orders", 0),
                0L,
                new TopicPartition("orders", 1),
                3L,
                new TopicPartition("orders", 2),
                9L));
  }

  @Test
  void exportThenImportRestoresOffsets() throws IOException {
    Path export = dir.resolve("etl.json");
    assertThat(run(file("export", "--file", export.toString()))).isZero();
    assertThat(Files.readString(export))
        .contains(
            "\"format\" : \"sluice-offsets\"",
            "\"lastBatchId\" : 1",
            "\"topic\" : \"orders\"",
            "\"offset\" : 25");
    run(file("reset", "--topic", "orders", "--to-offset", "0:1", "--execute"));

    assertThat(run(file("import", "--file", export.toString()))).isZero();
    assertThat(out.toString()).contains("dry run: nothing changed");
    assertThat(committed()).containsEntry(new TopicPartition("orders", 0), 1L);
    assertThat(run(file("import", "--file", export.toString(), "--execute"))).isZero();
    assertThat(committed())
        .isEqualTo(
            Map.of(new TopicPartition("orders", 0), 25L, new TopicPartition("orders", 1), 4L));
  }

  @Test
  void resetKeepsTheHistoryRetentionGiven() {
    assertThat(run(file("reset", "--to-batch", "1", "--execute", "--history-retention", "2")))
        .isZero();
    try (OffsetStore store = OffsetStores.file(dir)) {
      assertThat(store.history("etl", 10)).extracting(BatchCommit::batchId).containsExactly(2L, 1L);
    }

    err.getBuffer().setLength(0);
    assertThat(run(file("history", "--history-retention", "0"))).isEqualTo(1);
    assertThat(err.toString()).isEqualTo("sluice: --history-retention must be > 0, was 0\n");
  }

  @Test
  void unknownOptionIsOneLineAndExitTwo() {
    assertThat(run(file("list", "--frobnicate"))).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo("sluice: Unknown option: '--frobnicate' (see 'sluice offsets list --help')\n");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void malformedImportFileIsOneLineAndChangesNothing() throws IOException {
    Path bad = dir.resolve("bad.json");
    Files.writeString(
        bad,
        "{\"format\": \"sluice-offsets\", \"version\": 1, \"offsets\": [ {\"topic\": \"orders\",");
    assertThat(run(file("import", "--file", bad.toString(), "--execute"))).isEqualTo(1);
    assertThat(err.toString())
        .startsWith("sluice: " + bad + " is not valid JSON: ")
        .doesNotContain("\tat ");
    assertThat(err.toString().lines()).hasSize(1);

    err.getBuffer().setLength(0);
    Files.writeString(
        bad,
        "{\"format\": \"sluice-offsets\", \"version\": 1, \"offsets\": [{\"topic\": \"orders\","
            + " \"partition\": 0, \"offset\": -5}]}");
    assertThat(run(file("import", "--file", bad.toString(), "--execute"))).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "sluice: "
                + bad
                + ": offsets[0] needs a topic, a partition >= 0 and an"
                + " offset >= 0, was {\"topic\":\"orders\",\"partition\":0,\"offset\":-5}\n");
    assertThat(committed()).containsEntry(new TopicPartition("orders", 0), 25L);
  }

  @Test
  void unreachableStoreIsOneLineUnlessVerbose() {
    String[] args = {
      "list",
      "--store",
      "zookeeper",
      "--zookeeper",
      "127.0.0.1:1",
      "--group",
      "etl",
      "--timeout",
      "300ms"
    };
    assertThat(run(args)).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo("sluice: cannot connect to ZooKeeper at 127.0.0.1:1 within 300 ms\n");

    err.getBuffer().setLength(0);
    List<String> verbose = new ArrayList<>(List.of(args));
    verbose.add("--verbose");
    assertThat(run(verbose.toArray(String[]::new))).isEqualTo(1);
    assertThat(err.toString()).contains("\tat io.sluice.offsets");
  }

  @Test
  void brokerResetsNeedBootstrapServers() {
    assertThat(run(file("reset", "--to-earliest"))).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "sluice: --to-earliest needs --bootstrap-servers (the broker knows the log offsets)\n");
  }

  @Test
  void missingConnectionOptionIsNamed() {
    assertThat(run("list", "--store", "jdbc", "--group", "etl")).isEqualTo(1);
    assertThat(err.toString()).isEqualTo("sluice: --store jdbc needs --jdbc-url\n");
  }

  @Test
  void jdbcStoreWorksFromTheCommandLine() {
    String url = "jdbc:h2:mem:cli-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    assertThat(
            run(
                "reset",
                "--store",
                "jdbc",
                "--jdbc-url",
                url,
                "--group",
                "etl",
                "--topic",
                "orders",
                "--to-offset",
                "0:42",
                "--execute"))
        .isZero();
    assertThat(run("list", "--store", "jdbc", "--jdbc-url", url, "--group", "etl")).isZero();
    assertThat(out.toString()).endsWith("orders  0          42\n");
  }

  @Test
  @ExtendWith(EmbeddedKafkaExtension.class)
  void brokerResetsUseTheLogOffsets(EmbeddedKafka kafka) {
    String topic = "cli-orders-" + System.nanoTime();
    kafka.createTopic(topic, 2);
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      records.add(new ProducerRecord<>(topic, 0, "k", "v" + i));
    }
    records.add(new ProducerRecord<>(topic, 1, "k", "w"));
    kafka.produce(records);
    String bs = kafka.bootstrapServers();

    assertThat(
            run(
                file(
                    "reset",
                    "--bootstrap-servers",
                    bs,
                    "--topic",
                    topic,
                    "--to-latest",
                    "--execute")))
        .isZero();
    assertThat(committed())
        .containsEntry(new TopicPartition(topic, 0), 5L)
        .containsEntry(new TopicPartition(topic, 1), 1L);
    assertThat(run(file("reset", "--bootstrap-servers", bs, "--topic", topic, "--to-earliest")))
        .isZero();
    assertThat(committed()).containsEntry(new TopicPartition(topic, 0), 5L);
    assertThat(
            run(
                file(
                    "reset",
                    "--bootstrap-servers",
                    bs,
                    "--topic",
                    topic,
                    "--by-duration",
                    "1h",
                    "--execute")))
        .isZero();
    assertThat(committed())
        .containsEntry(new TopicPartition(topic, 0), 0L)
        .containsEntry(new TopicPartition(topic, 1), 0L);

    out.getBuffer().setLength(0);
    assertThat(run(file("list", "--bootstrap-servers", bs))).isZero();
    assertThat(out.toString()).contains(topic + "  0          0       5    5");

    out.getBuffer().setLength(0);
    assertThat(
            run(
                "reset",
                "--store",
                "kafka",
                "--bootstrap-servers",
                bs,
                "--group",
                "cli-etl",
                "--topic",
                topic,
                "--to-latest",
                "--execute"))
        .isZero();
    assertThat(kafka.committedOffsets("cli-etl").get(new TopicPartition(topic, 0)).offset())
        .isEqualTo(5L);
    assertThat(run("history", "--store", "kafka", "--bootstrap-servers", bs, "--group", "cli-etl"))
        .isZero();
    assertThat(out.toString()).contains("1 batch (newest first)", topic + "-0 [5, 5)");
  }

  @Test
  void readOnlyCommandsOnAMissingStoreDirectoryCreateNothing() throws IOException {
    Path missing = dir.resolve("typo").resolve("deep");
    for (String command : List.of("list", "history", "export")) {
      err.getBuffer().setLength(0);
      assertThat(run(command, "--store", "file", "--dir", missing.toString(), "--group", "etl"))
          .as(command)
          .isEqualTo(1);
      assertThat(err.toString())
          .as(command)
          .isEqualTo(
              "sluice: --dir "
                  + missing
                  + ": the store directory does not exist (nothing was created)\n");
    }
    assertThat(Files.exists(dir.resolve("typo"))).isFalse();
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void readOnlyCommandsOnAnEmptyStoreDirectoryWriteNoFile() throws IOException {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThat(run("list", "--store", "file", "--dir", empty.toString(), "--group", "etl"))
        .isZero();
    assertThat(out.toString()).endsWith("last batch none\nno committed offsets\n");
    assertThat(run("history", "--store", "file", "--dir", empty.toString(), "--group", "etl"))
        .isZero();
    try (Stream<Path> files = Files.list(empty)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void resetByTheCliFencesARunningDriversNextCommit() {
    try (OffsetStore driver = OffsetStores.file(dir)) {
      assertThat(driver.committed("etl")).containsEntry(new TopicPartition("orders", 0), 25L);
      assertThat(run(file("reset", "--topic", "orders", "--to-offset", "0:3", "--execute")))
          .isZero();

      BatchCommit planned =
          new BatchCommit(
              "etl",
              3,
              Instant.parse("2026-11-20T10:00:01Z"),
              List.of(new OffsetRange("orders", 0, 25, 40)));
      assertThat(catchThrowable(() -> driver.commit(planned)))
          .isInstanceOfSatisfying(
              OffsetFencedException.class,
              e -> {
                assertThat(e.fromOffset()).isEqualTo(25);
                assertThat(e.storedOffset()).isEqualTo(3);
              });
    }
    assertThat(committed()).containsEntry(new TopicPartition("orders", 0), 3L);
  }

  @Test
  @ExtendWith(EmbeddedKafkaExtension.class)
  void resetToAnOffsetOutsideTheLogIsRefused(EmbeddedKafka kafka) {
    String topic = "cli-bounds-" + System.nanoTime();
    kafka.createTopic(topic, 2);
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      records.add(new ProducerRecord<>(topic, 0, "k", "v" + i));
    }
    kafka.produce(records);
    kafka.deleteRecordsBefore(new TopicPartition(topic, 0), 2);
    String bs = kafka.bootstrapServers();
    Map<TopicPartition, Long> before = committed();

    for (String mode : List.of("--dry-run", "--execute")) {
      err.getBuffer().setLength(0);
      assertThat(
              run(
                  file(
                      "reset",
                      "--bootstrap-servers",
                      bs,
                      "--topic",
                      topic,
                      "--to-offset",
                      "0:9",
                      mode)))
          .as(mode)
          .isEqualTo(1);
      assertThat(err.toString())
          .as(mode)
          .isEqualTo(
              "sluice: offset 9 for topic '"
                  + topic
                  + "' partition 0 is"
                  + " beyond the log end: the log holds [2, 5] (start, end) on "
                  + bs
                  + "; pick an offset within it\n");
    }
    err.getBuffer().setLength(0);
    assertThat(
            run(
                file(
                    "reset",
                    "--bootstrap-servers",
                    bs,
                    "--topic",
                    topic,
                    "--to-offset",
                    "1:0,0:1",
                    "--execute")))
        .isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "sluice: offset 1 for topic '"
                + topic
                + "' partition 0 is before the log"
                + " start: the log holds [2, 5] (start, end) on "
                + bs
                + "; pick an offset within it\n");
    err.getBuffer().setLength(0);
    assertThat(
            run(file("reset", "--bootstrap-servers", bs, "--topic", topic, "--to-offset", "7:0")))
        .isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "sluice: topic '"
                + topic
                + "' has no partition 7 on "
                + bs
                + " (it has partitions 0 to 1)\n");
    assertThat(committed()).isEqualTo(before);

    err.getBuffer().setLength(0);
    assertThat(
            run(
                "reset",
                "--store",
                "kafka",
                "--bootstrap-servers",
                bs,
                "--group",
                "cli-bounds",
                "--topic",
                topic,
                "--to-offset",
                "1:1",
                "--execute"))
        .isEqualTo(1);
    assertThat(err.toString())
        .contains(
            "offset 1 for topic '"
                + topic
                + "' partition 1 is beyond the log end: the"
                + " log holds [0, 0]");
    assertThat(kafka.committedOffsets("cli-bounds")).isEmpty();

    assertThat(
            run(
                file(
                    "reset",
                    "--bootstrap-servers",
                    bs,
                    "--topic",
                    topic,
                    "--to-offset",
                    "0:2,1:0",
                    "--execute")))
        .isZero();
    assertThat(committed())
        .containsEntry(new TopicPartition(topic, 0), 2L)
        .containsEntry(new TopicPartition(topic, 1), 0L);
    assertThat(
            run(
                file(
                    "reset",
                    "--bootstrap-servers",
                    bs,
                    "--topic",
                    topic,
                    "--to-offset",
                    "0:5",
                    "--execute")))
        .isZero();
    assertThat(committed()).containsEntry(new TopicPartition(topic, 0), 5L);
  }

  private Path realDir() {
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
