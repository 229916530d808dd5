package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.offsets.OffsetRange;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class CommittedPositionTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);

  // Offsets above 127: boxed Longs outside the cache must compare by value.
  private final CommittedPosition position =
      new CommittedPosition(Map.of(P0, 12_000L, P1, 9_000L), OptionalLong.of(2));

  @Test
  void aPlanStartsAtThePositionWhenEveryCommittedPartitionBeginsThere() {
    KafkaBatchPlan plan =
        new KafkaBatchPlan(
            "g",
            List.of(
                new OffsetRange("t", 0, 12_000, 13_000),
                new OffsetRange("t", 1, 9_000, 9_500),
                new OffsetRange("t", 2, 0, 10)),
            false);
    assertThat(position.startsAt(plan)).isTrue();
    assertThat(
            position.startsAt(
                new KafkaBatchPlan("g", List.of(new OffsetRange("t", 0, 11_000, 12_000)), false)))
        .isFalse();
  }

  @Test
  void aPlanThatSkippedLostOffsetsStartsWhereThePartitionStoodBeforeTheSkip() {
    KafkaBatchPlan plan =
        new KafkaBatchPlan(
            "g",
            List.of(new OffsetRange("t", 0, 15_000, 16_000)),
            false,
            List.of(new KafkaBatchPlan.Skip("t", 0, 12_000)));
    assertThat(position.startsAt(plan)).isTrue();
  }

  @Test
  void rangesEndAtThePositionAndDifferingOffsetsAreNamed() {
    assertThat(position.endsAt(List.of(new OffsetRange("t", 0, 11_000, 12_000)))).isTrue();
    assertThat(position.endsAt(List.of(new OffsetRange("t", 0, 11_000, 11_500)))).isFalse();
    assertThat(position.differing(Map.of(P0, 12_000L, P1, 0L, new TopicPartition("t", 2), 5L)))
        .isEqualTo(Map.of(P1, 0L));
  }

  @Test
  void readingTheGroupOfAnUnreachableClusterGivesUpAfterTheTimeoutNamingServersAndGroup()
      throws java.io.IOException {
    String servers;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      servers = "127.0.0.1:" + socket.getLocalPort();
    }
    long started = System.nanoTime();
    // Closing the Admin used to wait for the pending call until Kafka's default.api.timeout.ms (60
    // s).
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                CommittedPosition.ofGroup(
                    Map.of("bootstrap.servers", servers, "group.id", "g"),
                    "g",
                    java.time.Duration.ofSeconds(2)))
        .isInstanceOf(org.apache.kafka.common.KafkaException.class)
        .hasMessageContaining("group 'g'")
        .hasMessageContaining("bootstrap.servers=" + servers);
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - started))
        .isLessThan(java.time.Duration.ofSeconds(4));
  }
}
