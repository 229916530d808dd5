package io.sluice.testkit.internal;

/**
 * A running Kafka that {@code EmbeddedKafka} drives: in-process broker, forked broker or container.
 */
public interface KafkaBackend extends AutoCloseable {

  /** Starts the server and blocks until clients can use it. */
  void start();

  /** {@code host:port} of the client listener; valid once started, stable across restarts. */
  String bootstrapServers();

  /** Stops and starts the server again with the same data and port. */
  void restart();

  /** Stops the server, keeping its data and port for {@link #resume()}. */
  void pause();

  /** Starts a {@linkplain #pause() paused} server again with the same data and port. */
  void resume();

  /** Whether the server runs in a container rather than in a JVM on this machine. */
  default boolean inContainer() {
    return false;
  }

  /** Stops the server and removes everything it stored; idempotent. */
  @Override
  void close();
}
