package io.sluice.examples;

import io.sluice.engine.StreamingContext;
import io.sluice.kafka.receiver.KafkaReceivers;
import io.sluice.kafka.receiver.ReliableReceiverOptions;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import io.sluice.testkit.EmbeddedZooKeeper;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The reliable Kafka receiver into PostgreSQL, exactly once: a receiver's blocks go to the
 * write-ahead log before their offsets go to ZooKeeper, and the JdbcSink commits each batch's rows
 * with the stream's block numbers. Midway the pipeline is stopped hard and a new one continues from
 * the checkpoint; then every record is checked to be in the table exactly once.
 */
@Command(
    name = "receiver",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "The reliable Kafka receiver -> PostgreSQL, exactly once, verified at the end.",
      "Numbered records go to a Kafka topic at a steady rate. A receiver (a group consumer",
      "on a task slot) gathers its polls into blocks in the write-ahead log, then commits their",
      "offsets to ZooKeeper (/consumers/<group>/offsets/<topic>/<partition>). Each batch's",
      "records go to a PostgreSQL table with the stream's block numbers in the same",
      "transaction. Midway the pipeline is stopped without finishing its batch and a new",
      "one continues from the checkpoint. Then every record is checked to be in the table",
      "exactly once, and ZooKeeper's offsets at the topic's end."
    })
public final class ReceiverCommand implements Callable<Integer> {

  @ParentCommand private Examples parent;

  @Spec private CommandSpec spec;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--zookeeper",
      paramLabel = "HOST:PORT",
      description = "ZooKeeper to use instead of an embedded server started in this JVM.")
  private String zookeeper;

  @Option(
      names = "--records",
      defaultValue = "60000",
      description = "Records produced (default: ${DEFAULT-VALUE}).")
  private long records;

  @Option(
      names = "--rate",
      defaultValue = "5000",
      description = "Records per second (default: ${DEFAULT-VALUE}).")
  private int rate;

  @Option(
      names = "--batch-interval",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description = "Batch interval (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--parallelism",
      defaultValue = "3",
      description = "Task slots; the receiver holds one (default: ${DEFAULT-VALUE}).")
  private int parallelism;

  @Option(
      names = "--topic",
      defaultValue = "readings",
      description = "Topic, 4 partitions (default: ${DEFAULT-VALUE}).")
  private String topic;

  @Option(
      names = "--group",
      defaultValue = "readings-receiver",
      description =
          "Consumer group, the key of the offsets in ZooKeeper (default: ${DEFAULT-VALUE}).")
  private String group;

  @Option(
      names = "--table",
      defaultValue = "readings",
      description = "Table, recreated (default: ${DEFAULT-VALUE}).")
  private String table;

  @Option(
      names = "--drain-timeout",
      defaultValue = "120s",
      converter = DurationConverter.class,
      description =
          "How long each half may take to reach its share of the records (default: ${DEFAULT-VALUE}).")
  private Duration drainTimeout;

  /** Used by picocli. */
  public ReceiverCommand() {}

  @Override
  public Integer call() throws Exception {
    if (records < 2 || rate <= 0 || parallelism < 2) {
      throw new ParameterException(
          spec.commandLine(),
          "--records must be >= 2, --rate > 0 and --parallelism >= 2 (the receiver holds a slot),"
              + " were "
              + records
              + ", "
              + rate
              + ", "
              + parallelism);
    }
    PrintStream out = parent.out();
    Check.banner(
        out,
        "Sluice receiver: the reliable Kafka receiver -> PostgreSQL, exactly once",
        String.format(
            "input      %,d numbered records at %,d/s -> topic '%s' (4 partitions)",
            records, rate, topic),
        "pipeline   KafkaReceivers.reliable: polls -> blocks in the write-ahead log (fsynced),",
        "           then its offsets -> ZooKeeper /consumers/" + group + "/offsets/...",
        String.format(
            "           batches of %s -> JdbcSink INSERT into '%s' + block numbers in ONE transaction",
            Check.format(batchInterval), table),
        "run        stopped hard midway (its batch not finished); a new pipeline continues",
        "verify     every record exactly once in PostgreSQL; ZooKeeper offsets == the topic's end");
    EmbeddedZooKeeper embeddedZk = null;
    Path checkpointDir = Check.tempDir("sluice-receiver-");
    try (Servers servers = new Servers(serverOptions, out)) {
      String connect = zookeeper;
      if (connect == null) {
        long t0 = System.nanoTime();
        embeddedZk = EmbeddedZooKeeper.startNew();
        connect = embeddedZk.connectString();
        out.printf(
            "started an embedded ZooKeeper at %s in %d ms%n",
            connect, (System.nanoTime() - t0) / 1_000_000);
      }
      String bootstrap = servers.bootstrapServers();
      DataSource ds = servers.dataSource();
      servers.createTopic(topic, 4);
      Map<TopicPartition, Long> before = servers.endOffsets(topic);
      if (before.values().stream().anyMatch(o -> o > 0)) {
        throw new ParameterException(
            spec.commandLine(),
            "topic '" + topic + "' is not empty; choose another --topic for a checked run");
      }
      recreateTable(ds);
      try (OffsetStore zk = OffsetStores.zookeeper(connect);
          JdbcOffsetStore sinkStore = OffsetStores.jdbc(ds)) {
        if (!zk.committed(group).isEmpty()) {
          throw new ParameterException(
              spec.commandLine(),
              "group '" + group + "' already has offsets in ZooKeeper; choose another --group");
        }
        long t0 = System.nanoTime();
        AtomicReference<Throwable> producerFailure = new AtomicReference<>();
        AtomicLong produced = new AtomicLong();
        Thread producer =
            new Thread(() -> produce(bootstrap, produced, producerFailure), "demo-producer");
        producer.setDaemon(true);
        producer.start();

        StreamingContext first = pipeline(bootstrap, ds, zk, sinkStore, checkpointDir);
        first.start();
        long half = records / 2;
        awaitRows(ds, first, half, out);
        first.stop(false);
        out.printf(
            "-- stopped hard with %,d rows in the table and %,d records produced;"
                + " a new pipeline continues from the checkpoint --%n",
            countRows(ds), produced.get());

        StreamingContext second = pipeline(bootstrap, ds, zk, sinkStore, checkpointDir);
        second.start();
        producer.join(TimeUnit.MINUTES.toMillis(10));
        Map<TopicPartition, Long> end = servers.endOffsets(topic);
        awaitRows(ds, second, records, out);
        awaitOffsets(zk, end);
        second.stop(true);
        second.awaitTermination();
        out.printf(
            "%nstopped after %.1f s: %,d records produced, %,d rows%n",
            (System.nanoTime() - t0) / 1e9, produced.get(), countRows(ds));
        if (producerFailure.get() != null) {
          return Check.verdict(out, false, "the producer failed: " + producerFailure.get());
        }
        return verify(out, ds, zk.committed(group), end);
      }
    } finally {
      Check.deleteTree(checkpointDir);
      if (embeddedZk != null) {
        embeddedZk.close();
      }
    }
  }

  private StreamingContext pipeline(
      String bootstrap,
      DataSource ds,
      OffsetStore zk,
      JdbcOffsetStore sinkStore,
      Path checkpointDir) {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("receiver-demo")
            .batchInterval(batchInterval)
            .parallelism(parallelism)
            .checkpointDir(checkpointDir)
            .receiverWriteAheadLog(true)
            .exactlyOnce(true)
            .build();
    Map<String, Object> params =
        Map.of(
            "bootstrap.servers",
            bootstrap,
            "group.id",
            group,
            "key.deserializer",
            StringDeserializer.class,
            "value.deserializer",
            StringDeserializer.class,
            "auto.offset.reset",
            "earliest");
    KafkaReceivers.<String, String>reliable(
            ctx, List.of(topic), params, ReliableReceiverOptions.builder().offsetStore(zk).build())
        .writeTo(
            JdbcSink.<ConsumerRecord<String, String>>builder()
                .dataSource(ds)
                .sql(
                    "INSERT INTO "
                        + table
                        + " (id, kafka_partition, kafka_offset) VALUES (?, ?, ?)")
                .binder(
                    (st, r) -> {
                      st.setLong(1, Long.parseLong(r.value()));
                      st.setInt(2, r.partition());
                      st.setLong(3, r.offset());
                    })
                .offsetStore(sinkStore)
                .build());
    return ctx;
  }

  private void produce(String bootstrap, AtomicLong produced, AtomicReference<Throwable> failure) {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.LINGER_MS_CONFIG,
            5);
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
      long start = System.nanoTime();
      for (long id = 0; id < records; id++) {
        long due = start + id * 1_000_000_000L / rate;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        p.send(
            new ProducerRecord<>(topic, "k" + id % 97, Long.toString(id)),
            (meta, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              }
            });
        produced.incrementAndGet();
      }
      p.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    }
  }

  private void awaitRows(DataSource ds, StreamingContext ctx, long target, PrintStream out)
      throws Exception {
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    long last = -1;
    while (true) {
      long rows = countRows(ds);
      if (rows >= target) {
        return;
      }
      if (rows / (records / 10 + 1) != last / (records / 10 + 1)) {
        out.printf("  %,d rows%n", rows);
        last = rows;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "only " + rows + " of " + target + " rows after " + Check.format(drainTimeout));
      }
      if (ctx.awaitTermination(Duration.ofMillis(200))) {
        throw new IllegalStateException("the pipeline stopped before the table had " + target);
      }
    }
  }

  private void awaitOffsets(OffsetStore zk, Map<TopicPartition, Long> end) throws Exception {
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    while (!zk.committed(group).equals(end)) {
      if (System.nanoTime() > deadline) {
        return; // the verdict says what ZooKeeper holds
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  private int verify(
      PrintStream out,
      DataSource ds,
      Map<TopicPartition, Long> zkOffsets,
      Map<TopicPartition, Long> end)
      throws SQLException {
    long rows = countRows(ds);
    long distinct = queryLong("SELECT count(DISTINCT id) FROM " + table, ds);
    long outOfRange =
        queryLong("SELECT count(*) FROM " + table + " WHERE id < 0 OR id >= " + records, ds);
    List<String> problems = new ArrayList<>();
    if (distinct != records || outOfRange != 0) {
      problems.add(
          String.format(
              "%,d distinct ids of %,d (%,d out of range)", distinct, records, outOfRange));
    }
    if (rows != distinct) {
      problems.add(String.format("%,d rows for %,d ids: duplicates", rows, distinct));
    }
    out.printf("ZooKeeper /consumers/%s/offsets: %s (topic end %s)%n", group, zkOffsets, end);
    if (!zkOffsets.equals(end)) {
      problems.add("ZooKeeper offsets " + zkOffsets + " are not the topic's end " + end);
    }
    if (problems.isEmpty()) {
      return Check.verdict(
          out,
          true,
          String.format(
              "all %,d records are in '%s' exactly once; ZooKeeper's offsets are at the topic's end",
              records, table));
    }
    return Check.verdict(out, false, String.join("; ", problems));
  }

  private void recreateTable(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + table);
      // No key: a record written twice would show as two rows.
      st.execute(
          "CREATE TABLE "
              + table
              + " (id BIGINT NOT NULL, kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL)");
      if (!c.getAutoCommit()) {
        c.commit();
      }
    }
  }

  private long countRows(DataSource ds) throws SQLException {
    return queryLong("SELECT count(*) FROM " + table, ds);
  }

  private static long queryLong(String sql, DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
