package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Keeps the receiver harness runnable on a real broker and ZooKeeper; measures nothing. */
class ReceiverBenchTest {

  @TempDir Path dir;

  @Test
  void readsTheWholeTopicWithEveryContenderAndRecordsLatencies() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new ReceiverBench(out))
            .execute(
                "--records",
                "2000",
                "--warmup",
                "0",
                "--passes",
                "1",
                "--rate",
                "1000",
                "--intervals-ms",
                "200",
                "--warmup-seconds",
                "0.5",
                "--seconds",
                "2",
                "--dir",
                dir.toString());

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .contains(
            "direct stream, offsets to ZooKeeper",
            "reliable receiver + WAL, offsets to ZooKeeper",
            "reliable receiver + WAL, offsets to Kafka group",
            "plain receiver, no WAL, offsets to Kafka group",
            "Throughput summary",
            "reliable-zk      200 ms: latency p50",
            "Latency summary");
  }
}
