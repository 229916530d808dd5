package io.sluice.offsets.internal.cli;

import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.internal.FileOffsetStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options every {@code sluice offsets} subcommand shares: which store, how to reach it, which
 * group.
 */
public final class StoreOptions {

  /** The store kinds. */
  public enum Kind {
    kafka,
    zookeeper,
    file,
    jdbc
  }

  @Option(
      names = "--store",
      required = true,
      paramLabel = "KIND",
      description = "Where the offsets live: ${COMPLETION-CANDIDATES}.")
  Kind store;

  @Option(
      names = "--group",
      required = true,
      description = "The consumer group (the stream's offset key).")
  String group;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      description =
          "Kafka brokers: the store for --store kafka; for other stores, needed by list (lag) and by "
              + "resets to earliest/latest/datetime/duration.")
  String bootstrapServers;

  @Option(
      names = "--zookeeper",
      paramLabel = "CONNECT",
      description = "ZooKeeper connect string for --store zookeeper.")
  String zookeeper;

  @Option(names = "--dir", description = "Directory of --store file.")
  Path dir;

  @Option(names = "--jdbc-url", paramLabel = "URL", description = "JDBC URL of --store jdbc.")
  String jdbcUrl;

  @Option(names = "--jdbc-user", paramLabel = "USER", description = "JDBC user.")
  String jdbcUser;

  @Option(names = "--jdbc-password", paramLabel = "PASSWORD", description = "JDBC password.")
  String jdbcPassword;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      description = "How long to wait for a server (e.g. 10s, PT1M); default ${DEFAULT-VALUE}.")
  String timeout;

  @Option(
      names = "--history-retention",
      paramLabel = "BATCHES",
      defaultValue = "" + OffsetStores.DEFAULT_HISTORY_RETENTION,
      description =
          "Batches of history the store keeps per group when this command writes (reset, import):"
              + " older ones are removed. Give the driver's setting; default ${DEFAULT-VALUE}.")
  int historyRetention;

  @Option(names = "--verbose", description = "Print stack traces of failures.")
  boolean verbose;

  /**
   * Opens the store the options name; fails with a one-line message when a connection option is
   * missing.
   */
  OffsetStore open() {
    return open(false);
  }

  /**
   * Opens the store for commands that only read: a file store then creates no directory and no
   * file, and a directory that does not exist is a one-line failure (most likely a typo in --dir).
   */
  OffsetStore openReadOnly() {
    return open(true);
  }

  private OffsetStore open(boolean readOnly) {
    Duration t = CliParsers.duration("--timeout", timeout);
    if (historyRetention <= 0) {
      throw new CliException("--history-retention must be > 0, was " + historyRetention);
    }
    switch (store) {
      case kafka:
        require(bootstrapServers, "--bootstrap-servers");
        return OffsetStores.kafkaBuilder()
            .bootstrapServers(bootstrapServers)
            .timeout(t)
            .historyRetention(historyRetention)
            .build();
      case zookeeper:
        require(zookeeper, "--zookeeper");
        return OffsetStores.zookeeperBuilder()
            .connectString(zookeeper)
            .connectionTimeout(t)
            .historyRetention(historyRetention)
            .build();
      case file:
        if (dir == null) {
          throw new CliException("--store file needs --dir");
        }
        if (!readOnly) {
          return OffsetStores.fileBuilder().dir(dir).historyRetention(historyRetention).build();
        }
        if (!Files.isDirectory(dir)) {
          throw new CliException(
              "--dir "
                  + dir
                  + ": the store directory "
                  + (Files.exists(dir) ? "is not a directory" : "does not exist")
                  + " (nothing was created)");
        }
        return FileOffsetStore.openReadOnly(dir, Clock.systemUTC());
      case jdbc:
        require(jdbcUrl, "--jdbc-url");
        return OffsetStores.jdbcBuilder()
            .dataSource(new DriverManagerDataSource(jdbcUrl, jdbcUser, jdbcPassword, t))
            .historyRetention(historyRetention)
            .build();
      default:
        throw new CliException("unknown store " + store);
    }
  }

  private void require(String value, String option) {
    if (value == null || value.isBlank()) {
      throw new CliException("--store " + store + " needs " + option);
    }
  }

  /**
   * A reader of broker offsets, or a one-line failure naming {@code why} when --bootstrap-servers
   * is absent.
   */
  BrokerOffsets broker(String why) {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new CliException(why + " needs --bootstrap-servers (the broker knows the log offsets)");
    }
    return new BrokerOffsets(bootstrapServers, CliParsers.duration("--timeout", timeout));
  }
}
