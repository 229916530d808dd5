package io.sluice.kafka.direct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DirectStreamOptionsTest {

  @Test
  void defaultsAreFailFastAndUnbounded() {
    DirectStreamOptions o = DirectStreamOptions.defaults();
    assertThat(o.dataLossPolicy()).isEqualTo(DataLossPolicy.FAIL);
    assertThat(o.onBadRecord()).isEqualTo(ErrorPolicy.fail());
    assertThat(o.pollTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.maxRatePerPartition()).isEmpty();
    assertThat(o.startingOffsets()).isEmpty();
    assertThat(o.offsetStore()).isEmpty();
  }

  @Test
  void buildNamesTheBadSettingAndValue() {
    assertThatThrownBy(() -> DirectStreamOptions.builder().maxRatePerPartition(-5).build())
        .hasMessage("maxRatePerPartition must be > 0, was -5");
    assertThatThrownBy(() -> DirectStreamOptions.builder().minRatePerPartition(-1).build())
        .hasMessage("minRatePerPartition must be >= 0, was -1");
    assertThatThrownBy(
            () ->
                DirectStreamOptions.builder()
                    .maxRatePerPartition(10)
                    .minRatePerPartition(20)
                    .build())
        .hasMessage("minRatePerPartition must be <= maxRatePerPartition (10), was 20");
    assertThatThrownBy(() -> DirectStreamOptions.builder().initialRate(0).build())
        .hasMessage("initialRate must be > 0, was 0");
    assertThatThrownBy(() -> DirectStreamOptions.builder().pollTimeout(Duration.ZERO).build())
        .hasMessage("pollTimeout must be > 0, was PT0S");
    assertThatThrownBy(() -> DirectStreamOptions.builder().name(" ").build())
        .hasMessage("name must not be blank, was ' '");
    assertThatThrownBy(() -> ErrorPolicy.deadLetter(""))
        .hasMessage("dead-letter topic must not be blank, was ''");
  }

  @Test
  void minPartitionsIsAtLeastOneAndNotForGroupMode() {
    assertThat(DirectStreamOptions.defaults().minPartitions()).isZero();
    assertThat(DirectStreamOptions.builder().minPartitions(8).build().minPartitions()).isEqualTo(8);
    assertThatThrownBy(() -> DirectStreamOptions.builder().minPartitions(0).build())
        .hasMessage("minPartitions must be >= 1, was 0");
    assertThatThrownBy(
            () -> DirectStreamOptions.builder().groupMembership(true).minPartitions(4).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("groupMembership(true)")
        .hasMessageContaining("minPartitions (4)");
  }

  @Test
  void strategiesRequireBootstrapServers() {
    assertThatThrownBy(() -> ConsumerStrategies.subscribe(List.of("t"), Map.of("group.id", "g")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bootstrap.servers");
    assertThatThrownBy(
            () -> ConsumerStrategies.subscribe(List.of(), Map.of("bootstrap.servers", "x")))
        .hasMessage("topics must not be empty");
  }
}
