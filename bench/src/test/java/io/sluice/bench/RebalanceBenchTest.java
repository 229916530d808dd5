package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Keeps the rebalance harness (member JVMs, join, leave, kill; stateless and stateful) runnable;
 * measures nothing.
 */
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

  @Test
  void measuresTheStatefulPipelinesPausesAndRestoresAndChecksEveryCount() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new RebalanceBench(out))
            .execute(
                "--pipeline",
                "stateful",
                "--runs",
                "1",
                "--rate",
                "300",
                "--keys",
                "6000",
                "--quiet-seconds",
                "1");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .containsPattern("p1 alone counted the 6,000 loaded keys")
        .containsPattern("kill  settled .* pause global +\\d+ ms, partition +\\d+ ms")
        .containsPattern("start restores: p\\d [\\d,]+ keys in \\d+ ms")
        .containsPattern("every key's counts 1\\.\\.n, 6,000 state rows: exactly once")
        .contains("failed runs: 0", "state restores", "  all   (");
  }
}
