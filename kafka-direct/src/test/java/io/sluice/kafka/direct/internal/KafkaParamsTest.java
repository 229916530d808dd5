package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaParamsTest {

  @Test
  void theDeadLetterProducerBlocksAtMostFiveSecondsUnlessThePolicySaysOtherwise() {
    Map<String, Object> params =
        Map.of("bootstrap.servers", List.of("a:9092", "b:9092"), "group.id", "g");
    assertThat(KafkaParams.deadLetterProducer(params, Map.of()))
        .containsEntry("max.block.ms", 5000);
    assertThat(KafkaParams.deadLetterProducer(params, Map.of("max.block.ms", 30_000)))
        .containsEntry("max.block.ms", 30_000);
    assertThat(KafkaParams.bootstrapServers(params)).isEqualTo("a:9092,b:9092");
  }

  @Test
  void aBoundedAdminKeepsOnlyAdminSettingsAndBoundsEveryCall() {
    Map<String, Object> admin =
        KafkaParams.boundedAdmin(
            Map.of(
                "bootstrap.servers",
                "a:9092",
                "group.id",
                "g",
                "security.protocol",
                "SSL",
                "default.api.timeout.ms",
                120_000),
            Duration.ofSeconds(3));
    assertThat(admin)
        .containsOnly(
            Map.entry("bootstrap.servers", "a:9092"),
            Map.entry("security.protocol", "SSL"),
            Map.entry("default.api.timeout.ms", 3000),
            Map.entry("request.timeout.ms", 3000));
  }
}
