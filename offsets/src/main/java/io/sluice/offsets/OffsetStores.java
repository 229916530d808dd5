package io.sluice.offsets;

import io.sluice.offsets.internal.CommitHook;
import io.sluice.offsets.internal.FileOffsetStore;
import io.sluice.offsets.internal.JdbcOffsetStoreImpl;
import io.sluice.offsets.internal.KafkaOffsetStore;
import io.sluice.offsets.internal.ZooKeeperOffsetStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.common.TopicPartition;

/**
 * Static factories for the {@link OffsetStore}s, their builders, and the resolution of {@link
 * StartingOffsets.FromBatch} against a store's history.
 *
 * <p>One rule, shared with {@code io.sluice.sinks.Sinks}: a factory named after the store and
 * taking its required argument ({@link #kafka(Map)}, {@link #zookeeper(String)}, {@link
 * #file(Path)}, {@link #jdbc(DataSource)}) returns a finished store with every other setting at its
 * default; {@code <name>Builder()} returns a builder for the rest. Builders are not thread-safe;
 * {@code build()} validates every setting and later changes to a builder do not reach a built
 * store.
 */
public final class OffsetStores {

  /**
   * Batches of history every store keeps per group unless told otherwise ({@code
   * historyRetention(int)} on each builder).
   */
  public static final int DEFAULT_HISTORY_RETENTION = 1000;

  private static final Pattern SQL_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private OffsetStores() {}

  /**
   * A store in the Kafka consumer group, with client settings (security etc.); {@code
   * bootstrap.servers} is required. See {@link #kafkaBuilder()}.
   */
  public static OffsetStore kafka(Map<String, Object> clientConfig) {
    return kafkaBuilder().clientConfig(clientConfig).build();
  }

  /** A builder of the Kafka store. */
  public static KafkaBuilder kafkaBuilder() {
    return new KafkaBuilder();
  }

  /** A store in ZooKeeper at {@code connectString} (e.g. {@code zk1:2181,zk2:2181/chroot}). */
  public static OffsetStore zookeeper(String connectString) {
    return zookeeperBuilder().connectString(connectString).build();
  }

  /** A builder of the ZooKeeper store. */
  public static ZooKeeperBuilder zookeeperBuilder() {
    return new ZooKeeperBuilder();
  }

  /** A store in directory {@code dir}, created if absent. */
  public static OffsetStore file(Path dir) {
    return fileBuilder().dir(dir).build();
  }

  /** A builder of the file store. */
  public static FileBuilder fileBuilder() {
    return new FileBuilder();
  }

  /**
   * A store in the database of {@code dataSource}, with the default tables (see {@link
   * JdbcOffsetStore#DDL}).
   */
  public static JdbcOffsetStore jdbc(DataSource dataSource) {
    return jdbcBuilder().dataSource(dataSource).build();
  }

  /** A builder of the JDBC store. */
  public static JdbcBuilder jdbcBuilder() {
    return new JdbcBuilder();
  }

  /**
   * The ranges of batch {@code batchId} of {@code group} in the store's history. Blocking.
   *
   * @throws OffsetStoreException when the history does not hold the batch; the message says which
   *     batches it holds
   */
  public static List<OffsetRange> rangesOfBatch(OffsetStore store, String group, long batchId) {
    Objects.requireNonNull(store, "store must not be null");
    Objects.requireNonNull(group, "group must not be null");
    Optional<BatchCommit> batch = store.batch(group, batchId);
    if (batch.isPresent()) {
      return batch.get().ranges();
    }
    List<BatchCommit> newest = store.history(group, 1);
    String holds;
    if (newest.isEmpty()) {
      holds = "it holds no batches for this group";
    } else {
      holds =
          "its newest batch is "
              + newest.get(0).batchId()
              + "; older batches may have passed the history retention";
    }
    throw new OffsetStoreException(
        "batch "
            + batchId
            + " of group '"
            + group
            + "' is not in the history of "
            + store.describe()
            + " ("
            + holds
            + ")");
  }

  /**
   * Resolves a {@link StartingOffsets#fromBatch} description: each partition of the batch at the
   * {@code fromOffset} of its range. Blocking.
   *
   * @throws OffsetStoreException when the batch is not in the store's history
   */
  public static Map<TopicPartition, Long> startingPositions(StartingOffsets.FromBatch fromBatch) {
    Objects.requireNonNull(fromBatch, "fromBatch must not be null");
    Map<TopicPartition, Long> positions = new LinkedHashMap<>();
    for (OffsetRange r : rangesOfBatch(fromBatch.store(), fromBatch.group(), fromBatch.batchId())) {
      positions.put(r.topicPartition(), r.fromOffset());
    }
    return positions;
  }

  private static void requirePositive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, was " + value);
    }
  }

  private static void requirePositive(String name, Duration value) {
    Objects.requireNonNull(value, name + " must not be null");
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be > 0, was " + value);
    }
  }

  /**
   * Builds the Kafka store; {@code bootstrapServers} (or {@code bootstrap.servers} in the client
   * config) is required.
   */
  public static final class KafkaBuilder {
    private final Map<String, Object> clientConfig = new HashMap<>();
    private String historyTopic = "__sluice_offset_history";
    private Short historyReplicationFactor;
    private int historyRetention = DEFAULT_HISTORY_RETENTION;
    private String transactionalIdPrefix = "sluice-offsets-";
    private Duration timeout = Duration.ofSeconds(30);
    private Clock clock = Clock.systemUTC();
    private CommitHook hook = CommitHook.NONE;

    private KafkaBuilder() {}

    /** The brokers to bootstrap from, e.g. {@code localhost:9092}. */
    public KafkaBuilder bootstrapServers(String bootstrapServers) {
      clientConfig.put("bootstrap.servers", bootstrapServers);
      return this;
    }

    /**
     * Client settings (security, client id...) for the admin, producer and consumer the store uses.
     */
    public KafkaBuilder clientConfig(Map<String, Object> config) {
      clientConfig.putAll(Objects.requireNonNull(config, "clientConfig must not be null"));
      return this;
    }

    /**
     * The topic holding the batch history; default {@code __sluice_offset_history}, created if
     * absent.
     */
    public KafkaBuilder historyTopic(String topic) {
      this.historyTopic = topic;
      return this;
    }

    /**
     * The replication factor when the store creates the history topic; default: the broker's
     * default.
     */
    public KafkaBuilder historyReplicationFactor(short replicationFactor) {
      this.historyReplicationFactor = replicationFactor;
      return this;
    }

    /**
     * Batches of history kept per group; default {@value OffsetStores#DEFAULT_HISTORY_RETENTION}. A
     * commit that takes the group past it writes, in its transaction, a tombstone for each batch
     * that falls out, so reads see exactly the newest {@code batches}; the store creates the
     * history topic compacted ({@code cleanup.policy=compact}), so the log cleaner then removes
     * them. A history topic created by hand should be compacted too.
     */
    public KafkaBuilder historyRetention(int batches) {
      this.historyRetention = batches;
      return this;
    }

    /**
     * The prefix of the per-group {@code transactional.id} that fences committers; default {@code
     * sluice-offsets-}.
     */
    public KafkaBuilder transactionalIdPrefix(String prefix) {
      this.transactionalIdPrefix = prefix;
      return this;
    }

    /** How long any call waits for the broker; default 30 s. */
    public KafkaBuilder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** The clock that stamps resets; default UTC system clock. */
    public KafkaBuilder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    KafkaBuilder commitHook(CommitHook hook) {
      this.hook = hook;
      return this;
    }

    /** Validates the settings and creates the store; nothing connects until the first call. */
    public OffsetStore build() {
      Object servers = clientConfig.get("bootstrap.servers");
      if (servers == null || servers.toString().isBlank()) {
        throw new IllegalArgumentException(
            "bootstrapServers must be set (or bootstrap.servers in clientConfig), was " + servers);
      }
      for (String key : List.of("transactional.id", "group.id", "enable.auto.commit")) {
        if (clientConfig.containsKey(key)) {
          throw new IllegalArgumentException(
              "clientConfig must not set "
                  + key
                  + ": the store manages it, was "
                  + clientConfig.get(key));
        }
      }
      if (historyTopic == null || historyTopic.isBlank()) {
        throw new IllegalArgumentException(
            "historyTopic must not be blank, was '" + historyTopic + "'");
      }
      if (historyReplicationFactor != null && historyReplicationFactor <= 0) {
        throw new IllegalArgumentException(
            "historyReplicationFactor must be > 0, was " + historyReplicationFactor);
      }
      requirePositive("historyRetention", historyRetention);
      requirePositive("timeout", timeout);
      if (transactionalIdPrefix == null || transactionalIdPrefix.isBlank()) {
        throw new IllegalArgumentException(
            "transactionalIdPrefix must not be blank, was '" + transactionalIdPrefix + "'");
      }
      Objects.requireNonNull(clock, "clock must not be null");
      return new KafkaOffsetStore(
          clientConfig,
          historyTopic,
          Optional.ofNullable(historyReplicationFactor),
          historyRetention,
          transactionalIdPrefix,
          timeout,
          clock,
          hook);
    }
  }

  /**
   * Builds the ZooKeeper store; {@code connectString} (or a started {@code client}) is required.
   */
  public static final class ZooKeeperBuilder {
    private String connectString;
    private CuratorFramework client;
    private String root = "/sluice";
    private Duration sessionTimeout = Duration.ofSeconds(30);
    private Duration connectionTimeout = Duration.ofSeconds(15);
    private int historyRetention = DEFAULT_HISTORY_RETENTION;
    private Clock clock = Clock.systemUTC();
    private CommitHook hook = CommitHook.NONE;

    private ZooKeeperBuilder() {}

    /**
     * The ZooKeeper ensemble, e.g. {@code zk1:2181,zk2:2181} or with a chroot {@code
     * zk1:2181/kafka}.
     */
    public ZooKeeperBuilder connectString(String connectString) {
      this.connectString = connectString;
      return this;
    }

    /** A started Curator client to use instead of a connect string; the store does not close it. */
    public ZooKeeperBuilder client(CuratorFramework client) {
      this.client = client;
      return this;
    }

    /** The znode under which the last batch id and the history live; default {@code /sluice}. */
    public ZooKeeperBuilder root(String root) {
      this.root = root;
      return this;
    }

    /** The ZooKeeper session timeout; default 30 s. */
    public ZooKeeperBuilder sessionTimeout(Duration timeout) {
      this.sessionTimeout = timeout;
      return this;
    }

    /** How long {@code build()} waits for the connection; default 15 s. */
    public ZooKeeperBuilder connectionTimeout(Duration timeout) {
      this.connectionTimeout = timeout;
      return this;
    }

    /**
     * Batches of history kept per group; default {@value OffsetStores#DEFAULT_HISTORY_RETENTION}.
     * After each commit the store deletes the group's older batch znodes.
     */
    public ZooKeeperBuilder historyRetention(int batches) {
      this.historyRetention = batches;
      return this;
    }

    /** The clock that stamps resets; default UTC system clock. */
    public ZooKeeperBuilder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    ZooKeeperBuilder commitHook(CommitHook hook) {
      this.hook = hook;
      return this;
    }

    /**
     * Validates the settings and connects, blocking up to {@code connectionTimeout}.
     *
     * @throws OffsetStoreException when ZooKeeper cannot be reached
     */
    public OffsetStore build() {
      if (client == null && (connectString == null || connectString.isBlank())) {
        throw new IllegalArgumentException(
            "connectString must be set (or a client), was " + connectString);
      }
      if (client != null && connectString != null) {
        throw new IllegalArgumentException(
            "set either connectString or client, not both; connectString was " + connectString);
      }
      if (root == null || !root.startsWith("/") || root.endsWith("/") || root.length() < 2) {
        throw new IllegalArgumentException(
            "root must be an absolute znode path like /sluice, was '" + root + "'");
      }
      requirePositive("sessionTimeout", sessionTimeout);
      requirePositive("connectionTimeout", connectionTimeout);
      requirePositive("historyRetention", historyRetention);
      Objects.requireNonNull(clock, "clock must not be null");
      if (client != null) {
        return new ZooKeeperOffsetStore(
            client,
            false,
            client.getZookeeperClient().getCurrentConnectionString(),
            root,
            historyRetention,
            clock,
            hook);
      }
      return ZooKeeperOffsetStore.connect(
          connectString, root, sessionTimeout, connectionTimeout, historyRetention, clock, hook);
    }
  }

  /** Builds the file store; {@code dir} is required. */
  public static final class FileBuilder {
    private Path dir;
    private int historyRetention = DEFAULT_HISTORY_RETENTION;
    private Clock clock = Clock.systemUTC();
    private CommitHook hook = CommitHook.NONE;

    private FileBuilder() {}

    /** The directory holding {@code offsets.log}; created if absent. */
    public FileBuilder dir(Path dir) {
      this.dir = dir;
      return this;
    }

    /**
     * Batches of history kept per group; default {@value OffsetStores#DEFAULT_HISTORY_RETENTION}.
     * Each commit's log entry records it, so older batches leave the history at that commit for
     * every reader; the log file drops them when it is compacted.
     */
    public FileBuilder historyRetention(int batches) {
      this.historyRetention = batches;
      return this;
    }

    /** The clock that stamps resets; default UTC system clock. */
    public FileBuilder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    FileBuilder commitHook(CommitHook hook) {
      this.hook = hook;
      return this;
    }

    /**
     * Validates the settings and opens the log, reading it fully.
     *
     * @throws OffsetStoreException when the directory is unusable or the log damaged in the middle
     */
    public OffsetStore build() {
      if (dir == null) {
        throw new IllegalArgumentException("dir must be set, was null");
      }
      requirePositive("historyRetention", historyRetention);
      Objects.requireNonNull(clock, "clock must not be null");
      return new FileOffsetStore(dir, historyRetention, clock, hook);
    }
  }

  /** Builds the JDBC store; {@code dataSource} is required. */
  public static final class JdbcBuilder {
    private DataSource dataSource;
    private String schema;
    private String tablePrefix = "sluice_";
    private int historyRetention = DEFAULT_HISTORY_RETENTION;
    private Clock clock = Clock.systemUTC();
    private CommitHook hook = CommitHook.NONE;

    private JdbcBuilder() {}

    /**
     * Where the tables live; the store borrows a connection per call and never closes the
     * DataSource.
     */
    public JdbcBuilder dataSource(DataSource dataSource) {
      this.dataSource = dataSource;
      return this;
    }

    /** The schema of the tables (created if absent); default: the connection's current schema. */
    public JdbcBuilder schema(String schema) {
      this.schema = schema;
      return this;
    }

    /** The prefix of the table names; default {@code sluice_}. */
    public JdbcBuilder tablePrefix(String prefix) {
      this.tablePrefix = prefix;
      return this;
    }

    /**
     * Batches of history kept per group; default {@value OffsetStores#DEFAULT_HISTORY_RETENTION}.
     * Each commit deletes the group's older history rows in its transaction.
     */
    public JdbcBuilder historyRetention(int batches) {
      this.historyRetention = batches;
      return this;
    }

    /** The clock that stamps resets; default UTC system clock. */
    public JdbcBuilder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    JdbcBuilder commitHook(CommitHook hook) {
      this.hook = hook;
      return this;
    }

    /**
     * Validates the settings and creates the tables if absent.
     *
     * @throws OffsetStoreException when the database cannot be reached
     */
    public JdbcOffsetStore build() {
      if (dataSource == null) {
        throw new IllegalArgumentException("dataSource must be set, was null");
      }
      if (schema != null && !SQL_IDENTIFIER.matcher(schema).matches()) {
        throw new IllegalArgumentException(
            "schema must be a plain SQL identifier, was '" + schema + "'");
      }
      if (tablePrefix == null
          || !(tablePrefix.isEmpty() || SQL_IDENTIFIER.matcher(tablePrefix).matches())) {
        throw new IllegalArgumentException(
            "tablePrefix must be empty or a plain SQL identifier, was '" + tablePrefix + "'");
      }
      requirePositive("historyRetention", historyRetention);
      Objects.requireNonNull(clock, "clock must not be null");
      return new JdbcOffsetStoreImpl(
          dataSource, schema, tablePrefix, historyRetention, clock, hook);
    }
  }
}
