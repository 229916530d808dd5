package io.sluice.testkit.internal;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft Kafka (broker and controller in one process) running in this JVM. Not
 * thread-safe: {@code EmbeddedKafka} serialises the lifecycle calls.
 */
public final class InProcessKafkaBroker implements KafkaBackend {

  /** Settings this class owns; users may not override them. */
  public static final Set<String> RESERVED_PROPERTIES =
      Set.of(
          "node.id",
          "broker.id",
          "process.roles",
          "listeners",
          "advertised.listeners",
          "listener.security.protocol.map",
          "inter.broker.listener.name",
          "controller.listener.names",
          "controller.quorum.voters",
          "controller.quorum.bootstrap.servers",
          "log.dir",
          "log.dirs",
          "metadata.log.dir");

  private static final Logger LOG = LoggerFactory.getLogger(InProcessKafkaBroker.class);
  private static final int NODE_ID = 1;
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final int BIND_ATTEMPTS = 5;

  private final Map<String, String> overrides;
  private Path baseDir;
  private Path dataDir;
  private Path metadataDir;
  private int brokerPort;
  private int controllerPort;
  private KafkaRaftServer server;

  /**
   * @param overrides broker settings applied over the defaults; none of {@link
   *     #RESERVED_PROPERTIES}
   */
  public InProcessKafkaBroker(Map<String, String> overrides) {
    this.overrides = Map.copyOf(overrides);
  }

  @Override
  public void start() {
    baseDir = TempDirs.create("sluice-kafka-");
    dataDir = baseDir.resolve("data");
    metadataDir = baseDir.resolve("metadata");
    try {
      format();
      startWithFreshPorts();
    } catch (RuntimeException | Error e) {
      TempDirs.deleteRecursively(baseDir);
      throw e;
    }
  }

  private void format() {
    try {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(NODE_ID)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(dataDir.toString(), metadataDir.toString()))
          .setMetadataLogDirectory(metadataDir.toString())
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("cannot format the Kafka storage in " + baseDir, e);
    }
  }

  private void startWithFreshPorts() {
    // Free ports are picked before binding, so another process can steal one in between.
    for (int attempt = 1; ; attempt++) {
      brokerPort = Ports.freePort();
      controllerPort = Ports.freePort();
      try {
        startServer();
        return;
      } catch (RuntimeException e) {
        if (!isBindFailure(e) || attempt == BIND_ATTEMPTS) {
          throw e;
        }
        LOG.info(
            "port {} or {} was taken before the broker bound it, retrying",
            brokerPort,
            controllerPort);
      }
    }
  }

  private void startServer() {
    KafkaRaftServer candidate = new KafkaRaftServer(new KafkaConfig(config(), false), Time.SYSTEM);
    try {
      candidate.startup();
    } catch (RuntimeException | Error e) {
      stopQuietly(candidate);
      throw e;
    }
    server = candidate;
    LOG.info("Kafka broker ready on {} (data in {})", bootstrapServers(), baseDir);
  }

  private Map<String, String> config() {
    Map<String, String> config = new LinkedHashMap<>();
    config.putAll(KafkaDefaults.settings());
    config.putAll(overrides);

    config.put("node.id", String.valueOf(NODE_ID));
    config.put("process.roles", "broker,controller");
    config.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:"
            + brokerPort
            + ","
            + CONTROLLER_LISTENER
            + "://127.0.0.1:"
            + controllerPort);
    config.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    config.put(
        "listener.security.protocol.map",
        "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    config.put("inter.broker.listener.name", "PLAINTEXT");
    config.put("controller.listener.names", CONTROLLER_LISTENER);
    config.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    config.put("log.dirs", dataDir.toString());
    config.put("metadata.log.dir", metadataDir.toString());
    return config;
  }

  private static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  @Override
  public void restart() {
    stopServer();
    startServer();
  }

  @Override
  public void pause() {
    stopServer();
  }

  @Override
  public void resume() {
    if (server == null) {
      startServer();
    }
  }

  private void stopServer() {
    KafkaRaftServer running = server;
    server = null;
    if (running != null) {
      running.shutdown();
      running.awaitShutdown();
    }
  }

  private static void stopQuietly(KafkaRaftServer candidate) {
    try {
      candidate.shutdown();
      candidate.awaitShutdown();
    } catch (RuntimeException | Error e) {
      LOG.debug("ignoring failure while stopping a broker that failed to start", e);
    }
  }

  @Override
  public void close() {
    try {
      stopServer();
    } finally {
      TempDirs.deleteRecursively(baseDir);
      baseDir = null;
    }
  }

  /** The directory holding the data and metadata logs, or {@code null} when not running. */
  public Path baseDir() {
    return baseDir;
  }
}
