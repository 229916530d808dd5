package io.sluice.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaBackendsTest {

  @Test
  void containerRequestWithoutDockerFallsBackToInProcessBroker() {
    String previous = System.setProperty(KafkaBackends.PROPERTY, "container");
    try {
      KafkaBackend backend = KafkaBackends.create(Map.of());
      assertThat(backend)
          .isInstanceOf(
              org.testcontainers.DockerClientFactory.instance().isDockerAvailable()
                  ? ContainerKafkaBackend.class
                  : InProcessKafkaBroker.class);
    } finally {
      if (previous == null) {
        System.clearProperty(KafkaBackends.PROPERTY);
      } else {
        System.setProperty(KafkaBackends.PROPERTY, previous);
      }
    }
  }

  @Test
  void forkedSelectsTheBrokerInAChildJvm() {
    String previous = System.setProperty(KafkaBackends.PROPERTY, " Forked ");
    try {
      assertThat(KafkaBackends.create(Map.of())).isInstanceOf(ForkedKafkaBroker.class);
    } finally {
      if (previous == null) {
        System.clearProperty(KafkaBackends.PROPERTY);
      } else {
        System.setProperty(KafkaBackends.PROPERTY, previous);
      }
    }
  }

  @Test
  void brokerSettingsMapToApacheKafkaImageEnvironmentNames() {
    assertThat(ContainerKafkaBackend.environmentName("offsets.topic.replication.factor"))
        .isEqualTo("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR");
    assertThat(ContainerKafkaBackend.environmentName("a_b-c.d")).isEqualTo("KAFKA_A__B___C_D");
  }
}
