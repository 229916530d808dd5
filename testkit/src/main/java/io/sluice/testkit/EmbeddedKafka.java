package io.sluice.testkit;

import io.sluice.testkit.internal.ForkedKafkaBroker;
import io.sluice.testkit.internal.InProcessKafkaBroker;
import io.sluice.testkit.internal.KafkaBackend;
import io.sluice.testkit.internal.KafkaBackends;
import io.sluice.testkit.internal.KafkaTestClients;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * A real single-node Kafka (KRaft, broker and controller in one node) for tests and demos.
 *
 * <p>By default the broker runs inside this JVM, listens on 127.0.0.1 on a free port and keeps its
 * logs in a temporary directory that {@link #close()} deletes. Internal topics use replication
 * factor 1, so transactions and consumer groups work; topics are not auto-created (see {@link
 * #createTopic(String, int)}). If the system property {@code sluice.testkit.kafka} or the
 * environment variable {@code SLUICE_TESTKIT_KAFKA} is {@code container}, Docker is reachable and
 * {@code org.testcontainers:kafka} is on the class path, a Testcontainers Kafka is used instead;
 * otherwise the in-process broker is used and a warning is logged. With {@code forked}, the same
 * broker runs in a child JVM of its own (for benchmarks that measure their clients' process apart
 * from the broker's), which stops when {@link #close()} ends it or this JVM exits.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.startNew()) {
 *     kafka.createTopic("orders", 3);
 *     kafka.produce(List.of(new ProducerRecord<>("orders", "k", "v")));
 *     List<ConsumerRecord<String, String>> all = kafka.consumeAll("orders", true);
 * }
 * }</pre>
 *
 * <p>Threads: lifecycle methods ({@link #start()}, {@link #stop()}, {@link #restart()}, {@link
 * #close()}) are synchronized; the helpers may be called from any thread, each creating its own
 * short-lived clients, and block until the broker answers (at most 30 s, then a {@link
 * KafkaException}). Tests that share one instance must use unique topic names, group ids and
 * transactional ids.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private enum State {
    NEW,
    RUNNING,
    STOPPED,
    CLOSED
  }

  private final Map<String, String> brokerProperties;
  private final boolean forked;
  private State state = State.NEW;
  private KafkaBackend backend;
  private volatile KafkaTestClients clients;

  private EmbeddedKafka(Map<String, String> brokerProperties, boolean forked) {
    this.brokerProperties = brokerProperties;
    this.forked = forked;
  }

  /** A builder for a broker with extra broker settings. */
  public static Builder builder() {
    return new Builder();
  }

  /** Creates and starts a broker with the default settings; blocks until it is ready (2-3 s). */
  public static EmbeddedKafka startNew() {
    return builder().start();
  }

  /**
   * Starts the broker and blocks until it accepts clients. Idempotent while running. After {@link
   * #stop()}, starts it again on the same port with the same data.
   *
   * @return this instance
   * @throws IllegalStateException if already closed
   * @throws UnsupportedOperationException when starting a stopped container
   */
  public synchronized EmbeddedKafka start() {
    if (state == State.RUNNING) {
      return this;
    }
    if (state == State.CLOSED) {
      throw new IllegalStateException("EmbeddedKafka is closed and cannot be started again");
    }
    if (state == State.STOPPED) {
      backend.resume();
      state = State.RUNNING;
      return this;
    }
    KafkaBackend started =
        forked ? new ForkedKafkaBroker(brokerProperties) : KafkaBackends.create(brokerProperties);
    started.start();
    backend = started;
    clients = new KafkaTestClients(started.bootstrapServers());
    state = State.RUNNING;
    return this;
  }

  /**
   * {@code 127.0.0.1:port} of the client listener ({@code host:mappedPort} for a container); the
   * same after {@link #restart()}.
   *
   * @throws IllegalStateException if not running
   */
  public String bootstrapServers() {
    return clients().bootstrapServers();
  }

  /** Whether this instance runs in a Testcontainers container rather than in this JVM. */
  public synchronized boolean runsInContainer() {
    requireRunning();
    return backend.inContainer();
  }

  /**
   * Stops the broker and starts it again on the same port with the same data, as a broker restart
   * in production would. Blocks until the broker is ready again. Clients created before keep
   * working once they reconnect.
   *
   * @throws UnsupportedOperationException when running in a container
   */
  public synchronized void restart() {
    requireRunning();
    backend.restart();
  }

  /**
   * Stops the broker but keeps its port and data, as a broker outage would, until {@link #start()}
   * brings it back. Meanwhile {@link #bootstrapServers()} still answers, clients cannot connect
   * (connections are refused), and the helpers fail after their timeout. Idempotent while stopped.
   * Tests sharing the instance must start it again before they finish.
   *
   * @throws IllegalStateException if never started or closed
   * @throws UnsupportedOperationException when running in a container
   */
  public synchronized void stop() {
    if (state == State.STOPPED) {
      return;
    }
    requireRunning();
    backend.pause();
    state = State.STOPPED;
  }

  /**
   * Stops the broker and deletes its temporary directories. Idempotent; after it returns no broker
   * thread is left running.
   */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    KafkaTestClients toClose = clients;
    clients = null;
    try {
      if (toClose != null) {
        toClose.close();
      }
    } finally {
      if (backend != null) {
        backend.close();
      }
    }
  }

  /** A new Admin client connected to this broker. The caller owns it and must close it. */
  public Admin admin() {
    return clients().newAdmin();
  }

  /**
   * A fresh, mutable producer configuration: bootstrap servers, String serializers, acks=all,
   * idempotence on. Add a transactional.id for transactions.
   */
  public Map<String, Object> producerConfig() {
    return clients().producerConfig();
  }

  /**
   * A fresh, mutable consumer configuration: bootstrap servers, the group id, String deserializers,
   * auto.offset.reset=earliest, enable.auto.commit=false.
   */
  public Map<String, Object> consumerConfig(String groupId) {
    return clients().consumerConfig(Objects.requireNonNull(groupId, "groupId"));
  }

  /** Same as {@link #createTopic(String, int, Map)} with no topic configs. */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /**
   * Creates a topic with replication factor 1 and the given topic configs (for example {@code
   * cleanup.policy=compact}); blocks until every partition has a leader.
   *
   * @throws IllegalArgumentException if {@code partitions < 1}
   * @throws KafkaException if the topic exists or the broker rejects a config
   */
  public void createTopic(String name, int partitions, Map<String, String> configs) {
    clients().createTopic(Objects.requireNonNull(name, "name"), partitions, configs);
  }

  /**
   * Sends the records with an idempotent producer (acks=all), flushes, and returns their metadata
   * in the order of {@code records}.
   */
  public List<RecordMetadata> produce(List<ProducerRecord<String, String>> records) {
    return clients().produce(records);
  }

  /**
   * Like {@link #produce(List)} for byte[] keys and values, e.g. records no deserializer accepts.
   */
  public List<RecordMetadata> produceBytes(List<ProducerRecord<byte[], byte[]>> records) {
    return clients().produceBytes(records);
  }

  /**
   * Sends the records in one transaction of a new transactional producer and commits it. The commit
   * marker takes one offset per partition written, after the records.
   */
  public List<RecordMetadata> produceCommitted(List<ProducerRecord<String, String>> records) {
    return clients().produceTransactionally(records, true);
  }

  /**
   * Sends the records in one transaction, flushes them to the log and aborts it. A read_committed
   * consumer skips them and the abort marker, leaving a gap in the offsets it sees.
   */
  public List<RecordMetadata> produceAborted(List<ProducerRecord<String, String>> records) {
    return clients().produceTransactionally(records, false);
  }

  /** The end offset (high watermark) of each partition of {@code topic}, in partition order. */
  public Map<TopicPartition, Long> endOffsets(String topic) {
    return clients().offsets(topic, OffsetSpec.latest());
  }

  /** The log start offset of each partition of {@code topic}, in partition order. */
  public Map<TopicPartition, Long> beginningOffsets(String topic) {
    return clients().offsets(topic, OffsetSpec.earliest());
  }

  /**
   * Reads every partition of {@code topic} from its beginning to the end offset found when the call
   * starts (the last stable offset when {@code readCommitted}), using assign and seek, no group.
   * Records are ordered by partition, then offset.
   */
  public List<ConsumerRecord<String, String>> consumeAll(String topic, boolean readCommitted) {
    return clients().consumeAll(topic, readCommitted);
  }

  /**
   * Deletes the records of {@code tp} below {@code offset}, as retention would; blocks until done.
   */
  public void deleteRecordsBefore(TopicPartition tp, long offset) {
    clients().deleteRecordsBefore(tp, offset);
  }

  /** The offsets committed by consumer group {@code groupId}; empty if it committed none. */
  public Map<TopicPartition, OffsetAndMetadata> committedOffsets(String groupId) {
    return clients().committedOffsets(groupId);
  }

  /** The in-process broker's storage directory, for the testkit's own tests; null otherwise. */
  synchronized java.nio.file.Path storageDirectory() {
    return backend instanceof InProcessKafkaBroker broker ? broker.baseDir() : null;
  }

  private void requireRunning() {
    if (state != State.RUNNING) {
      throw new IllegalStateException("EmbeddedKafka is not running (state " + state + ")");
    }
  }

  private KafkaTestClients clients() {
    KafkaTestClients current = clients;
    if (current == null) {
      throw new IllegalStateException("EmbeddedKafka is not running; call start() first");
    }
    return current;
  }

  /**
   * Collects broker settings for an {@link EmbeddedKafka}. Not thread-safe; changes after {@link
   * #build()} do not reach built instances.
   */
  public static final class Builder {

    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private boolean forked;

    private Builder() {}

    /**
     * Sets a broker setting over the testkit's defaults, e.g. {@code log.retention.ms}. The
     * listener, node, quorum and directory settings belong to the fixture; build() rejects them.
     */
    public Builder brokerProperty(String key, String value) {
      brokerProperties.put(key, value);
      return this;
    }

    /**
     * Runs the broker in a child JVM of its own whatever {@code sluice.testkit.kafka} says, for a
     * benchmark that measures its clients' process apart from the broker's. The child stops when
     * {@link EmbeddedKafka#close()} ends it or this JVM exits.
     */
    public Builder forked() {
      this.forked = true;
      return this;
    }

    /** Calls {@link #brokerProperty(String, String)} for each entry. */
    public Builder brokerProperties(Map<String, String> properties) {
      properties.forEach(this::brokerProperty);
      return this;
    }

    /**
     * Validates the settings and returns an instance that is not started yet.
     *
     * @throws IllegalArgumentException naming the offending setting
     */
    public EmbeddedKafka build() {
      for (Map.Entry<String, String> e : brokerProperties.entrySet()) {
        String key = e.getKey();
        if (key == null || key.isBlank()) {
          throw new IllegalArgumentException(
              "brokerProperty key must not be blank, was '" + key + "'");
        }
        if (e.getValue() == null) {
          throw new IllegalArgumentException("brokerProperty " + key + " must not be null");
        }
        if (InProcessKafkaBroker.RESERVED_PROPERTIES.contains(key)) {
          throw new IllegalArgumentException(
              "brokerProperty "
                  + key
                  + " is managed by EmbeddedKafka and cannot be set, was "
                  + e.getValue());
        }
      }
      return new EmbeddedKafka(Map.copyOf(brokerProperties), forked);
    }

    /** {@link #build()} then {@link EmbeddedKafka#start()}. */
    public EmbeddedKafka start() {
      return build().start();
    }
  }
}
