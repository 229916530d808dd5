package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

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
            "jit compiling");
  }
}
