package io.sluice.testkit.internal;

import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses between the in-process broker, the same broker in a child JVM (opt-in, for benchmarks)
 * and an opt-in Testcontainers Kafka.
 */
public final class KafkaBackends {

  /**
   * System property that selects the backend: {@code container} opts in to Testcontainers, {@code
   * forked} runs the in-process broker in a child JVM ({@link ForkedKafkaBroker}).
   */
  public static final String PROPERTY = "sluice.testkit.kafka";

  /** Environment variable with the same meaning as {@link #PROPERTY}; the property wins. */
  public static final String ENVIRONMENT = "SLUICE_TESTKIT_KAFKA";

  private static final Logger LOG = LoggerFactory.getLogger(KafkaBackends.class);

  private KafkaBackends() {}

  /** A backend for the given broker settings; not started. */
  public static KafkaBackend create(Map<String, String> brokerProperties) {
    if ("forked".equals(choice())) {
      LOG.info("using a Kafka broker in a child JVM because {}=forked", PROPERTY);
      return new ForkedKafkaBroker(brokerProperties);
    }
    if ("container".equals(choice()) && containerPossible()) {
      LOG.info(
          "using Testcontainers Kafka {} because {}=container",
          ContainerKafkaBackend.IMAGE,
          PROPERTY);
      return new ContainerKafkaBackend(brokerProperties);
    }
    return new InProcessKafkaBroker(brokerProperties);
  }

  /** The backend asked for, lower case; empty when none. */
  private static String choice() {
    String choice = System.getProperty(PROPERTY);
    if (choice == null) {
      choice = System.getenv(ENVIRONMENT);
    }
    return choice == null ? "" : choice.trim().toLowerCase(Locale.ROOT);
  }

  private static boolean containerPossible() {
    try {
      Class.forName(
          "org.testcontainers.kafka.KafkaContainer", false, KafkaBackends.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      LOG.warn(
          "{}=container but org.testcontainers:kafka is not on the class path; using the in-process broker",
          PROPERTY);
      return false;
    }
    if (!DockerProbe.available()) {
      LOG.warn("{}=container but Docker is not reachable; using the in-process broker", PROPERTY);
      return false;
    }
    return true;
  }

  /** Separate class so that Testcontainers is only loaded once it is known to be present. */
  private static final class DockerProbe {
    static boolean available() {
      try {
        return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
      } catch (RuntimeException | LinkageError e) {
        return false;
      }
    }
  }
}
