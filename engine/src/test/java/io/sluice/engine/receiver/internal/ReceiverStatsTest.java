package io.sluice.engine.receiver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.engine.ManualClock;
import io.sluice.engine.status.ReceiverStatus;
import io.sluice.engine.status.ReceiverStatus.ReceiverError;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A receiver's counts, state, last error and rate, on a manual clock. */
class ReceiverStatsTest {

  private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

  @Test
  void rateCountsTheCurrentSecondAndTheNineBeforeItOrSinceTheFirstStart() {
    ManualClock clock = new ManualClock(T0);
    ReceiverStats stats = new ReceiverStats(clock);
    assertThat(stats.recordsPerSecond()).isZero();
    stats.starting();
    stats.stored(30);
    // at least one second: 30 records in the first instant are 30 per second
    assertThat(stats.recordsPerSecond()).isEqualTo(30.0);
    clock.advance(Duration.ofSeconds(2));
    stats.stored(45);
    assertThat(stats.recordsPerSecond()).isEqualTo(37.5); // 75 records in 2 s
    // at T0 + 10 s the window holds the whole seconds T0 + 1 s .. T0 + 9 s and the current one
    clock.advance(Duration.ofSeconds(8));
    assertThat(stats.recordsPerSecond()).isEqualTo(5.0); // 45 records in 9 s
    clock.advance(Duration.ofMillis(2500)); // T0 + 12.5 s: from T0 + 3 s, the 45 are out
    assertThat(stats.recordsPerSecond()).isZero();
    stats.stored(19);
    assertThat(stats.recordsPerSecond()).isEqualTo(2.0); // 19 records in 9.5 s
  }

  @Test
  void snapshotHoldsCountsStateAndTheNewestErrorWithItsTime() {
    ManualClock clock = new ManualClock(T0);
    ReceiverStats stats = new ReceiverStats(clock);
    assertThat(stats.snapshot("ticks", "ticker").state()).isEqualTo(ReceiverStatus.State.STOPPED);
    stats.starting();
    stats.stored(10);
    stats.stored(0);
    clock.advance(Duration.ofSeconds(3));
    stats.error("source went away", new IOException("reset by peer"));
    stats.restarting();
    ReceiverStatus restarting = stats.snapshot("ticks", "ticker");
    assertThat(restarting.state()).isEqualTo(ReceiverStatus.State.RESTARTING);
    stats.restarted();
    stats.starting();
    clock.advance(Duration.ofSeconds(1));
    stats.error("lagging", null);

    assertThat(stats.snapshot("ticks", "ticker"))
        .isEqualTo(
            new ReceiverStatus(
                "ticks",
                "ticker",
                ReceiverStatus.State.RUNNING,
                10,
                2.5, // 10 records in 4 s
                2,
                1,
                2,
                Optional.of(new ReceiverError(T0.plusSeconds(4), "lagging"))));
    assertThat(restarting.lastError())
        .hasValue(
            new ReceiverError(
                T0.plusSeconds(3), "source went away: java.io.IOException: reset by peer"));
    stats.stopped();
    assertThat(stats.snapshot("ticks", "ticker").state()).isEqualTo(ReceiverStatus.State.STOPPED);
  }

  @Test
  void metersReadTheCountsTaggedWithAppAndStream() {
    ReceiverStats stats = new ReceiverStats(new ManualClock(T0));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    stats.bindTo(registry, "app-1", "ticks");
    stats.starting();
    stats.stored(7);
    stats.stored(5);
    stats.error("boom", null);
    stats.restarted();
    assertThat(count(registry, "sluice.receiver.records")).isEqualTo(12.0);
    assertThat(count(registry, "sluice.receiver.blocks")).isEqualTo(2.0);
    assertThat(count(registry, "sluice.receiver.restarts")).isEqualTo(1.0);
    assertThat(count(registry, "sluice.receiver.errors")).isEqualTo(1.0);
  }

  private static double count(SimpleMeterRegistry registry, String name) {
    return registry.get(name).tag("app", "app-1").tag("stream", "ticks").functionCounter().count();
  }
}
