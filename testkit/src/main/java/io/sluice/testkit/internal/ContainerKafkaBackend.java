package io.sluice.testkit.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Kafka in a Docker container through Testcontainers ({@code apache/kafka} image of the client
 * version). Only loaded when the user opted in and Docker is reachable.
 */
final class ContainerKafkaBackend implements KafkaBackend {

  static final String IMAGE =
      "apache/kafka:" + org.apache.kafka.common.utils.AppInfoParser.getVersion();

  private final KafkaContainer container;

  ContainerKafkaBackend(Map<String, String> overrides) {
    Map<String, String> settings = new LinkedHashMap<>(KafkaDefaults.settings());
    settings.putAll(overrides);
    KafkaContainer created = new KafkaContainer(IMAGE);
    settings.forEach((key, value) -> created.withEnv(environmentName(key), value));
    this.container = created;
  }

  /** The apache/kafka image maps KAFKA_X_Y to x.y, with "__" for "_" and "___" for "-". */
  static String environmentName(String key) {
    return "KAFKA_"
        + key.replace("_", "__")
            .replace("-", "___")
            .replace('.', '_')
            .toUpperCase(java.util.Locale.ROOT);
  }

  @Override
  public void start() {
    container.start();
  }

  @Override
  public String bootstrapServers() {
    return container.getBootstrapServers();
  }

  @Override
  public void restart() {
    throw new UnsupportedOperationException(
        "restart() is not supported when EmbeddedKafka runs in a container"
            + " ("
            + IMAGE
            + "); run without sluice.testkit.kafka=container to use the in-process broker");
  }

  @Override
  public void pause() {
    throw new UnsupportedOperationException(
        "stop() is not supported when EmbeddedKafka runs in a container"
            + " ("
            + IMAGE
            + "); run without sluice.testkit.kafka=container to use the in-process broker");
  }

  @Override
  public void resume() {
    throw new UnsupportedOperationException(
        "start() after stop() is not supported when EmbeddedKafka runs in a"
            + " container ("
            + IMAGE
            + ")");
  }

  @Override
  public boolean inContainer() {
    return true;
  }

  @Override
  public void close() {
    container.stop();
  }
}
