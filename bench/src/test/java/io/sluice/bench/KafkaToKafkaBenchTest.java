package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Keeps the harness runnable on a real broker and PostgreSQL; measures nothing. */
class KafkaToKafkaBenchTest {

  @Test
  void runsEveryPipelineToTheEndOfTheInput() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new KafkaToKafkaBench(out))
            .execute(
                "--records",
                "2000",
                "--txn-records",
                "800",
                "--jdbc-records",
                "400",
                "--warmup",
                "0",
                "--jdbc-warmup",
                "0",
                "--passes",
                "1",
                "--verify-output");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed)
        .contains(
            "hand-written transactional loop",
            "hand-written loop + Sluice's offset fence",
            "KafkaSink (EOS)",
            "JdbcSink (EOS, JDBC batches)",
            "hand-written loop, JDBC batches",
            "JdbcSink (EOS, COPY via a staging table)",
            "hand-written loop, COPY via a staging table",
            "mean 667 records/txn",
            "mean 400 records/txn",
            "/ hand-written transactional loop = ");
  }
}
