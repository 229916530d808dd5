package io.sluice.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The Kafka broker and PostgreSQL database an example runs against: given ones, or embedded ones
 * started on demand and stopped by {@link #close()}. Also the small admin helpers the examples
 * share. Used by one command thread.
 */
public final class Servers implements AutoCloseable {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final ServerOptions options;
  private final PrintStream out;
  private EmbeddedKafka kafka;
  private EmbeddedPostgresDatabase postgres;
  private HikariDataSource pool;
  private Admin admin;

  /** Nothing starts until asked for. */
  public Servers(ServerOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** The brokers, starting an embedded one on first call when none was given. Blocking. */
  public String bootstrapServers() {
    if (options.bootstrapServers != null) {
      return options.bootstrapServers;
    }
    if (kafka == null) {
      long t0 = System.nanoTime();
      kafka = EmbeddedKafka.startNew();
      out.printf(
          "started an embedded Kafka broker (KRaft) at %s in %d ms%n",
          kafka.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
    }
    return kafka.bootstrapServers();
  }

  /**
   * A pooled DataSource, starting an embedded PostgreSQL on first call when no URL was given.
   * Blocking.
   */
  public DataSource dataSource() {
    if (pool == null) {
      HikariConfig config = new HikariConfig();
      if (options.jdbcUrl != null) {
        config.setJdbcUrl(options.jdbcUrl);
        config.setUsername(options.jdbcUser);
        config.setPassword(options.jdbcPassword);
      } else {
        long t0 = System.nanoTime();
        postgres = EmbeddedPostgresDatabase.startNew();
        out.printf(
            "started an embedded PostgreSQL at %s in %d ms%n",
            postgres.jdbcUrl(), (System.nanoTime() - t0) / 1_000_000);
        config.setJdbcUrl(postgres.jdbcUrl());
        config.setUsername(postgres.user());
        config.setPassword(postgres.password());
      }
      config.setMaximumPoolSize(4);
      config.setPoolName("examples");
      pool = new HikariDataSource(config);
    }
    return pool;
  }

  /** A shared admin client. */
  public Admin admin() {
    if (admin == null) {
      admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }
    return admin;
  }

  /** Creates the topic unless it exists. Blocking. */
  public void createTopic(String topic, int partitions) {
    try {
      admin()
          .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException(
            "cannot create topic " + topic + ": " + e.getCause(), e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "cannot create topic " + topic + ": no answer in " + TIMEOUT, e);
    }
  }

  /** The current end offset of every partition of {@code topic}. Blocking. */
  public Map<TopicPartition, Long> endOffsets(String topic) {
    return endOffsets(topic, false);
  }

  /**
   * The end offset of every partition of {@code topic}: with {@code readCommitted} the last stable
   * offset, which an open transaction holds back. Blocking.
   */
  public Map<TopicPartition, Long> endOffsets(String topic, boolean readCommitted) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      try {
        return readEndOffsets(topic, readCommitted);
      } catch (IllegalStateException e) {
        // A topic created a moment ago may not be on its leader's metadata yet.
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
      }
    }
  }

  private Map<TopicPartition, Long> readEndOffsets(String topic, boolean readCommitted) {
    try {
      int partitions =
          admin()
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic)
              .partitions()
              .size();
      Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        specs.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, Long> out = new HashMap<>();
      admin()
          .listOffsets(
              specs,
              new ListOffsetsOptions(
                  readCommitted ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED))
          .all()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .forEach((tp, info) -> out.put(tp, info.offset()));
      return out;
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "cannot read the end offsets of " + topic + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the end offsets of " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "cannot read the end offsets of " + topic + ": no answer in " + TIMEOUT, e);
    }
  }

  /**
   * Every record of {@code topic} from {@code from} (per partition; absent partitions from 0) to
   * the end found when the call starts (the last stable offset when {@code readCommitted}).
   * Blocking.
   */
  public List<ConsumerRecord<String, String>> readAll(
      String topic, Map<TopicPartition, Long> from, boolean readCommitted) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        (readCommitted ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED)
            .toString());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      Collection<TopicPartition> parts =
          c.partitionsFor(topic, TIMEOUT).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      c.assign(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, TIMEOUT);
      for (TopicPartition tp : parts) {
        c.seek(tp, from.getOrDefault(tp, 0L));
      }
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (parts.stream().anyMatch(tp -> c.position(tp, TIMEOUT) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "reading " + topic + " did not reach " + end + " within " + TIMEOUT);
        }
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            records.add(r);
          }
        }
      }
    }
    return records;
  }

  /** Closes the pool and admin client and stops the embedded servers. Idempotent. */
  @Override
  public void close() {
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
      admin = null;
    }
    if (pool != null) {
      pool.close();
      pool = null;
    }
    if (kafka != null) {
      kafka.close();
      kafka = null;
    }
    if (postgres != null) {
      postgres.close();
      postgres = null;
    }
  }
}
