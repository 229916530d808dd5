package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Keeps the rebalance harness (member JVMs, join, leave, kill) runnable; measures nothing. */
class RebalanceBenchTest {

  @Test
  void measuresThePauseOfEveryEventAndChecksTheOutput() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new RebalanceBench(out))
            .execute("--runs", "1", "--rate", "300", "--quiet-seconds", "1");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .containsPattern("leave settled .* pause global +\\d+ ms, partition +\\d+ ms")
        .containsPattern("join  settled .* pause global +\\d+ ms, partition +\\d+ ms")
        .containsPattern("kill  settled .* pause global +\\d+ ms, partition +\\d+ ms")
        .containsPattern("produced ([\\d,]+), output \\1 \\(read_committed\\): exactly once")
        .contains("failed runs: 0", "  kill  ( 1 samples)  global");
  }
}
