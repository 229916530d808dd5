package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Keeps the latency harness runnable on a real broker; measures nothing. */
class LatencyBenchTest {

  @Test
  void recordsTheLatencyOfEveryCell() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new LatencyBench(out))
            .execute(
                "--rates",
                "1000",
                "--intervals-ms",
                "50",
                "--warmup-seconds",
                "0.5",
                "--seconds",
                "1.5");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .contains("1,000/s   50 ms: latency p50", "smallest stable interval at 1,000 records/s");
  }
}
