package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class RateLimitsTest {

  private static final TopicPartition A = new TopicPartition("t", 0);
  private static final TopicPartition B = new TopicPartition("t", 1);
  private static final TopicPartition C = new TopicPartition("t", 2);

  @Test
  void withoutLimitsEveryPartitionReadsItsWholeLag() {
    assertThat(
            RateLimits.split(
                Map.of(A, 1000L, B, 0L), 500, OptionalLong.empty(), 0, OptionalLong.empty()))
        .isEqualTo(Map.of(A, 1000L, B, 0L));
  }

  @Test
  void maxRatePerPartitionCapsEachPartitionToRateTimesInterval() {
    assertThat(
            RateLimits.split(
                Map.of(A, 1000L, B, 30L), 500, OptionalLong.of(100), 0, OptionalLong.empty()))
        .isEqualTo(Map.of(A, 50L, B, 30L));
  }

  @Test
  void totalRateIsSplitInProportionToLag() {
    assertThat(
            RateLimits.split(
                Map.of(A, 3000L, B, 1000L, C, 0L),
                1000,
                OptionalLong.empty(),
                0,
                OptionalLong.of(400)))
        .isEqualTo(Map.of(A, 300L, B, 100L, C, 0L));
  }

  @Test
  void minRateKeepsSmallPartitionsFromStarving() {
    assertThat(
            RateLimits.split(
                Map.of(A, 100_000L, B, 10L), 1000, OptionalLong.empty(), 5, OptionalLong.of(100)))
        .isEqualTo(Map.of(A, 99L, B, 5L));
    assertThat(
            RateLimits.split(
                Map.of(A, 100_000L, B, 10L), 1000, OptionalLong.empty(), 0, OptionalLong.of(100)))
        .isEqualTo(Map.of(A, 99L, B, 1L));
  }

  @Test
  void maxRateAlsoCapsTheBackpressureShare() {
    assertThat(
            RateLimits.split(
                Map.of(A, 10_000L, B, 10_000L),
                1000,
                OptionalLong.of(50),
                0,
                OptionalLong.of(1000)))
        .isEqualTo(Map.of(A, 50L, B, 50L));
  }
}
