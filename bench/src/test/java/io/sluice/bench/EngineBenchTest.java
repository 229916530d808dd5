package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Keeps the harness runnable; measures nothing (the bench's figures are printed, never asserted).
 */
class EngineBenchTest {

  @Test
  void runsEveryModeWithMinimalSizes() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new EngineBench(out))
            .execute(
                "--warmup",
                "0",
                "--passes",
                "1",
                "--batches",
                "20",
                "--interval-seconds",
                "0.5",
                "--records-per-batch",
                "1000",
                "--throughput-batches",
                "2");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .contains(
            "empty-batch cycle (serial)",
            "empty-batch cost (pipelined)",
            "20 ms interval",
            "map/filter throughput");
  }
}
