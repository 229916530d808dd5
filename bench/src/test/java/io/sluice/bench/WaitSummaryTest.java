package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Keeps the JFR wait summary runnable on a real recording. */
class WaitSummaryTest {

  @Test
  void sumsTheParksOfTheNamedThreads(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("waits.jfr");
    try (Recording r = new Recording()) {
      r.enable("jdk.ThreadPark").withThreshold(Duration.ofMillis(1)).withStackTrace();
      r.start();
      Thread t = new Thread(() -> LockSupport.parkNanos(20_000_000), "sluice-task-7");
      t.start();
      t.join();
      r.stop();
      r.dump(file);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    int code =
        new CommandLine(new WaitSummary(out))
            .execute(file.toString(), "--threads", "sluice-task", "--per", "2");

    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed).contains("sluice-task | other: WaitSummaryTest.lambda");
  }
}
