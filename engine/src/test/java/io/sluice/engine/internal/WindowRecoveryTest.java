package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.KV;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.internal.RecoveryAndMemoryTest.RangeInput;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Windows spanning a restart: the committed batches before it are read again from their plans, so
 * every window after the restart equals the one of a run without a restart.
 */
class WindowRecoveryTest {

  private static final Duration I = Duration.ofSeconds(1);
  private static final Duration LENGTH = I.multipliedBy(6);
  private static final Duration SLIDE = I.multipliedBy(2);

  /** What the outputs saw, by batch time in seconds. */
  private record Seen(Map<Long, List<Long>> windows, Map<Long, Map<Long, Long>> sums) {
    Seen() {
      this(new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
    }
  }

  private static StreamingContext context(ManualClock clock, Path checkpoint) {
    return StreamingContext.builder()
        .appName("windows")
        .batchInterval(I)
        .parallelism(2)
        .clock(clock)
        .checkpointDir(checkpoint)
        .build();
  }

  /** Runs batches until the clock reaches {@code untilSecond}, recording every window. */
  private static RangeInput run(ManualClock clock, Path checkpoint, long untilSecond, Seen seen)
      throws InterruptedException {
    StreamingContext ctx = context(clock, checkpoint);
    RangeInput in = new RangeInput(ctx);
    AtomicInteger done = new AtomicInteger();
    in.window(LENGTH, SLIDE)
        .foreachBatch(
            (rdd, batch) -> {
              List<Long> values = new ArrayList<>(rdd.collect());
              values.sort(Comparator.naturalOrder());
              seen.windows().put(batch.time().getEpochSecond(), values);
            });
    in.mapToPair(x -> KV.of(x % 3, x))
        .reduceByKeyAndWindow(Long::sum, (a, b) -> a - b, LENGTH, SLIDE)
        .foreachBatch(
            (rdd, batch) -> {
              Map<Long, Long> sums = new TreeMap<>();
              rdd.collect().forEach(kv -> sums.put(kv.key(), kv.value()));
              seen.sums().put(batch.time().getEpochSecond(), sums);
            });
    in.foreachBatch((rdd, batch) -> done.incrementAndGet());
    ctx.start();
    long batches = untilSecond - clock.now().getEpochSecond();
    for (int i = 0; i < batches; i++) {
      int before = done.get();
      clock.advance(I);
      await().atMost(Duration.ofSeconds(20)).until(() -> done.get() > before);
    }
    ctx.stop(true);
    ctx.awaitTermination();
    return in;
  }

  @Test
  void windowsAfterARestartEqualThoseOfAnUninterruptedRun(@TempDir Path a, @TempDir Path b)
      throws Exception {
    Seen uninterrupted = new Seen();
    run(new ManualClock(Instant.EPOCH), a, 20, uninterrupted);

    Seen beforeRestart = new Seen();
    run(new ManualClock(Instant.EPOCH), b, 9, beforeRestart);
    Seen afterRestart = new Seen();
    RangeInput second = run(new ManualClock(Instant.ofEpochSecond(9)), b, 20, afterRestart);

    // Windows fire at even seconds (multiples of the slide since the epoch), in both runs.
    assertThat(uninterrupted.windows())
        .containsOnlyKeys(2L, 4L, 6L, 8L, 10L, 12L, 14L, 16L, 18L, 20L);
    assertThat(afterRestart.windows()).containsOnlyKeys(10L, 12L, 14L, 16L, 18L, 20L);
    for (long t : afterRestart.windows().keySet()) {
      assertThat(afterRestart.windows().get(t))
          .as("window at %d s", t)
          .isEqualTo(uninterrupted.windows().get(t));
      assertThat(afterRestart.sums().get(t))
          .as("sums at %d s", t)
          .isEqualTo(uninterrupted.sums().get(t));
    }
    // The window at 10 s holds batches at 5..10 s: batches 4..8 ran before the restart.
    assertThat(afterRestart.windows().get(10L)).hasSize(60).startsWith(40L).endsWith(99L);
    List<String> pastComputes =
        second.calls.stream()
            .filter(c -> c.startsWith("compute "))
            .filter(c -> Long.parseLong(c.split(" ")[1]) < 9)
            .toList();
    assertThat(pastComputes)
        .as("batches before the restart read again from their plans, each once")
        .doesNotHaveDuplicates()
        .contains(
            "compute 4 Range[from=40, until=50]",
            "compute 5 Range[from=50, until=60]",
            "compute 6 Range[from=60, until=70]",
            "compute 7 Range[from=70, until=80]",
            "compute 8 Range[from=80, until=90]");
  }
}
