package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MissingTopicsTest {

  /** A clock moved by hand. */
  private static final class HandClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneId.of("UTC");
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private final HandClock clock = new HandClock();
  private final MissingTopics missing = new MissingTopics("s", "subscribe[a, b, c]", clock);
  private final Set<String> named = Set.of("a", "b", "c");

  @Test
  void warnsAtOnceThenAtMostOnceAMinuteWhileTheSameTopicsStayMissing() {
    assertThat(missing.update(named, List.of("a"))).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(missing.update(named, List.of("a"))).isFalse();
    clock.advance(Duration.ofSeconds(58));
    assertThat(missing.update(named, List.of("a"))).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(missing.update(named, List.of("a"))).isTrue();
    clock.advance(Duration.ofSeconds(30));
    assertThat(missing.update(named, List.of("a"))).isFalse();
  }

  @Test
  void aTopicThatGoesMissingIsWarnedAtOnceAndOneThatAppearsIsForgotten() {
    assertThat(missing.update(named, List.of("a", "b"))).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(missing.update(named, List.of("a"))).as("b went missing too").isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(missing.update(named, List.of("a", "b"))).as("b is back, c still missing").isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(missing.update(named, List.of("a", "b", "c"))).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(missing.update(named, List.of("a", "b"))).as("c missing again").isTrue();
  }

  @Test
  void nothingIsWarnedWhenEveryNamedTopicExistsOrNoneIsNamed() {
    assertThat(missing.update(named, List.of("a", "b", "c", "d"))).isFalse();
    assertThat(missing.update(Set.of(), List.of())).isFalse();
  }
}
