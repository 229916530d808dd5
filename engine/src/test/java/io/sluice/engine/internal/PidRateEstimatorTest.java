package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.RateEstimator;
import io.sluice.engine.RateEstimators;
import java.time.Duration;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class PidRateEstimatorTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  @Test
  void firstBatchOnlySeedsThenFollowsTheFormula() {
    RateEstimator pid = RateEstimators.pid(SECOND);
    // seed: 1000 records in 500 ms -> latest rate 2000/s
    assertThat(pid.compute(1_000, 1_000, 500, 0)).isEmpty();
    // 1000 records in 1 s -> processing rate 1000; error 2000 - 1000 = 1000 -> 2000 - 1000 = 1000
    assertThat(pid.compute(2_000, 1_000, 1_000, 0)).hasValue(1_000.0);
    // rate 2000; error 1000 - 2000 = -1000; backlog 2 s * 2000 / 1 s = 4000 -> 1000 + 1000 - 800 =
    // 1200
    assertThat(pid.compute(3_000, 1_000, 500, 2_000)).hasValue(1_200.0);
    // rate 10; error 1190 -> 1200 - 1190 = 10, floored at the minimum rate 100
    assertThat(pid.compute(4_000, 10, 1_000, 0)).hasValue(100.0);
  }

  @Test
  void derivativeTermUsesErrorChangePerSecond() {
    RateEstimator pid = RateEstimators.pid(SECOND, 1.0, 0.2, 0.5, 100);
    assertThat(pid.compute(1_000, 1_000, 500, 0)).isEmpty();
    // error 1000, previous error 0, 2 s apart -> slope 500 -> 2000 - 1000 - 0 - 0.5 * 500 = 750
    assertThat(pid.compute(3_000, 1_000, 1_000, 0)).hasValue(750.0);
  }

  @Test
  void batchesWithoutRecordsOrTimeGiveNoEstimate() {
    RateEstimator pid = RateEstimators.pid(SECOND);
    assertThat(pid.compute(1_000, 0, 500, 0)).isEmpty();
    assertThat(pid.compute(1_000, 100, 0, 0)).isEmpty();
    assertThat(pid.compute(1_000, 100, 100, 0)).isEmpty();
    // same time again: ignored
    assertThat(pid.compute(1_000, 100, 100, 0)).isEmpty();
    assertThat(pid.compute(2_000, 100, 100, 0)).isEqualTo(OptionalDouble.of(1_000.0));
  }

  @Test
  void invalidParametersAreRefused() {
    assertThatThrownBy(() -> RateEstimators.pid(Duration.ZERO))
        .hasMessage("batchInterval must be > 0, was PT0S");
    assertThatThrownBy(() -> RateEstimators.pid(SECOND, -1, 0.2, 0, 100))
        .hasMessage("proportional must be >= 0, was -1.0");
    assertThatThrownBy(() -> RateEstimators.pid(SECOND, 1, 0.2, 0, 0))
        .hasMessage("minRate must be > 0, was 0.0");
  }
}
