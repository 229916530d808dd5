package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Keeps the state harness runnable on a real checkpoint directory; measures nothing (the bench's
 * figures are printed, never asserted).
 */
class StateBenchTest {

  @Test
  void runsEveryModeAndRecoversTheStateItWrote(@TempDir Path dir) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new StateBench(out))
            .execute(
                "--keys",
                "400,1000",
                "--ubk-keys",
                "400",
                "--recovery-keys",
                "1000",
                "--touched",
                "100",
                "--batches",
                "6",
                "--warmup",
                "0",
                "--passes",
                "1",
                "--recovery-warmup",
                "0",
                "--recovery-passes",
                "1",
                "--slots",
                "2",
                "--snapshot-interval",
                "3",
                "--dir",
                dir.toString());

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .as(printed)
        .contains(
            "mapWithState, 1,000 keys:",
            "mapWithState, 1,000 keys, no checkpoint:",
            "updateStateByKey, 400 keys:",
            "results per batch [100]",
            "results per batch [400]",
            "the restarted context's first batch saw the recovered state: {0=1002, 999=1001}",
            "recovery: start() on a checkpoint of 1,000 mapWithState keys")
        .doesNotContain("MISSING OUTPUTS");
  }
}
