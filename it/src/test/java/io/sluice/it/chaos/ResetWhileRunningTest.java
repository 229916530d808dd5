package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.BatchFailedException;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.it.chaos.ManualPipeline.Seen;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.cli.SluiceCli;
import io.sluice.sinks.JdbcSink;
import io.sluice.sinks.KafkaSink;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code sluice offsets reset --execute} while the stream runs, for every store and every committer
 * of the offsets: the running driver is fenced. Its next commit is refused ({@link
 * OffsetFencedException}: the batch's ranges no longer begin at the committed position), the
 * context stops with that failure, the reset position stays in the store, and a restart on the same
 * checkpoint continues from the reset. The reset runs through the command line's in-process entry
 * point {@link SluiceCli#run}, as an operator would run it.
 *
 * <p>Each case: batch 0 reads offsets [0, 10) of both partitions and commits; the reset moves the
 * group to partition 0 at 3 and partition 1 at 4; five more records per partition arrive; batch 1
 * (ranges from 10) must be refused; the restart's first batch reads [3, 15) and [4, 15).
 */
@ExtendWith({
  EmbeddedKafkaExtension.class,
  EmbeddedZooKeeperExtension.class,
  EmbeddedPostgresExtension.class
})
class ResetWhileRunningTest {

  static final int FIRST = 10;
  static final int MORE = 5;
  static final long RESET_P0 = 3;
  static final long RESET_P1 = 4;

  @TempDir Path tmp;

  /** Where the stream's offsets live and who commits them. */
  enum Committer {
    /** The stream commits to the Kafka offset store (consumer group plus history topic). */
    KAFKA_STORE("kafka"),
    /** The stream commits to the ZooKeeper store. */
    ZOOKEEPER_STORE("zookeeper"),
    /** The stream commits to the file store. */
    FILE_STORE("file"),
    /** The stream commits to the JDBC store. */
    JDBC_STORE("jdbc"),
    /** The JdbcSink commits rows and offsets to the JDBC store in one transaction. */
    JDBC_SINK("jdbc"),
    /**
     * The exactly-once KafkaSink commits records and offsets to the consumer group in one
     * transaction.
     */
    KAFKA_SINK("kafka"),
    /** No store: the stream commits to its Kafka consumer group. */
    KAFKA_GROUP("kafka");

    final String cliStore;

    Committer(String cliStore) {
      this.cliStore = cliStore;
    }

    String slug() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** The servers and names of one case. */
  private final class Case {
    final Committer committer;
    final EmbeddedKafka kafka;
    final EmbeddedZooKeeper zk;
    final EmbeddedPostgresDatabase pg;
    final String topic;
    final String group;
    final Path fileStoreDir;

    Case(
        Committer committer,
        EmbeddedKafka kafka,
        EmbeddedZooKeeper zk,
        EmbeddedPostgresDatabase pg) {
      this.committer = committer;
      this.kafka = kafka;
      this.zk = zk;
      this.pg = pg;
      this.topic = "reset-run-" + committer.slug();
      this.group = "reset-run-" + committer.slug() + "-group";
      this.fileStoreDir = tmp.resolve("file-store");
    }

    String table() {
      return group.replace('-', '_');
    }

    String outputTopic() {
      return topic + "-out";
    }

    /**
     * A new store of the case's kind, or null for the Kafka sink and group (the consumer group is
     * the place).
     */
    OffsetStore store() {
      return switch (committer) {
        case KAFKA_STORE ->
            OffsetStores.kafka(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        case ZOOKEEPER_STORE -> OffsetStores.zookeeper(zk.connectString());
        case FILE_STORE -> OffsetStores.file(fileStoreDir);
        case JDBC_STORE, JDBC_SINK -> OffsetStores.jdbc(pg.dataSource());
        case KAFKA_SINK, KAFKA_GROUP -> null;
      };
    }

    /**
     * The group's committed positions in the case's store (for Kafka: the consumer group), read
     * afresh.
     */
    Map<TopicPartition, Long> committed() {
      Map<TopicPartition, Long> out = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
      OffsetStore store = store();
      if (store == null) {
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e :
            kafka.committedOffsets(group).entrySet()) {
          if (e.getValue() != null) {
            out.put(e.getKey(), e.getValue().offset());
          }
        }
        return out;
      }
      try (store) {
        out.putAll(store.committed(group));
      }
      return out;
    }

    List<String> cliStoreArgs() {
      List<String> a = new ArrayList<>(List.of("--store", committer.cliStore));
      switch (committer.cliStore) {
        case "kafka" -> a.addAll(List.of("--bootstrap-servers", kafka.bootstrapServers()));
        case "zookeeper" -> a.addAll(List.of("--zookeeper", zk.connectString()));
        case "file" -> a.addAll(List.of("--dir", fileStoreDir.toString()));
        case "jdbc" ->
            a.addAll(
                List.of(
                    "--jdbc-url",
                    pg.jdbcUrl(),
                    "--jdbc-user",
                    pg.user(),
                    "--jdbc-password",
                    pg.password()));
        default -> throw new IllegalArgumentException(committer.cliStore);
      }
      return a;
    }

    TopicPartition p(int partition) {
      return new TopicPartition(topic, partition);
    }
  }

  /** A running pipeline of the case: the context, the store it owns (closed with it). */
  private static final class Run implements AutoCloseable {
    final ManualPipeline pipeline;
    final OffsetStore store;

    Run(ManualPipeline pipeline, OffsetStore store) {
      this.pipeline = pipeline;
      this.store = store;
    }

    @Override
    public void close() {
      try {
        pipeline.close();
      } finally {
        if (store != null) {
          store.close();
        }
      }
    }
  }

  private static Run start(Case c, Path checkpoint) {
    ManualPipeline pipeline = new ManualPipeline("reset-run-" + c.committer.slug(), checkpoint);
    OffsetStore store = c.store();
    try {
      Map<String, Object> params = c.kafka.consumerConfig(c.group);
      DirectStreamOptions.Builder options = DirectStreamOptions.builder().name("numbers");
      if (store != null) {
        options.offsetStore(store);
      }
      DStream<ConsumerRecord<String, String>> stream =
          KafkaDirect.createDirectStream(
              pipeline.ctx,
              ConsumerStrategies.<String, String>subscribe(List.of(c.topic), params),
              options.build());
      if (c.committer == Committer.JDBC_SINK) {
        stream.writeTo(
            JdbcSink.<ConsumerRecord<String, String>>builder()
                .dataSource(c.pg.dataSource())
                .sql("INSERT INTO " + c.table() + " (v) VALUES (?)")
                .binder((ps, r) -> ps.setString(1, r.value()))
                .offsetStore((JdbcOffsetStore) store)
                .name("reset-rows")
                .build());
      } else if (c.committer == Committer.KAFKA_SINK) {
        stream.writeTo(
            KafkaSink.<ConsumerRecord<String, String>>builder()
                .producerConfig(Map.of("bootstrap.servers", c.kafka.bootstrapServers()))
                .keySerializer(new StringSerializer())
                .valueSerializer(new StringSerializer())
                .record(
                    r -> new ProducerRecord<>(c.outputTopic(), r.partition(), r.key(), r.value()))
                .name("reset-out")
                .exactlyOnce()
                .build());
      }
      pipeline.record(stream);
      pipeline.ctx.start();
      return new Run(pipeline, store);
    } catch (RuntimeException | Error e) {
      pipeline.close();
      if (store != null) {
        store.close();
      }
      throw e;
    }
  }

  private static List<String> values(int partition, int from, int until) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < until; i++) {
      out.add(partition + "-" + i);
    }
    return out;
  }

  private static void produce(Case c, int from, int until) {
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int p = 0; p < 2; p++) {
      for (String v : values(p, from, until)) {
        records.add(new ProducerRecord<>(c.topic, p, v, v));
      }
    }
    c.kafka.produce(records);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Committer.class)
  void aResetWhileRunningFencesTheDriverKeepsTheResetAndTheRestartContinuesFromIt(
      Committer committer, EmbeddedKafka kafka, EmbeddedZooKeeper zk, EmbeddedPostgresDatabase pg)
      throws Exception {
    Case c = new Case(committer, kafka, zk, pg);
    kafka.createTopic(c.topic, 2);
    if (committer == Committer.JDBC_SINK) {
      sql(pg, "CREATE TABLE " + c.table() + " (v TEXT NOT NULL)");
    } else if (committer == Committer.KAFKA_SINK) {
      kafka.createTopic(c.outputTopic(), 2);
    }
    Path checkpoint = tmp.resolve("checkpoint");
    Throwable failure;
    Map<TopicPartition, Long> reset = Map.of(c.p(0), RESET_P0, c.p(1), RESET_P1);
    produce(c, 0, FIRST);

    try (Run first = start(c, checkpoint)) {
      Seen batch0 = first.pipeline.runBatch();
      assertThat(batch0.ranges())
          .containsExactlyInAnyOrder(
              new OffsetRange(c.topic, 0, 0, FIRST), new OffsetRange(c.topic, 1, 0, FIRST));
      assertThat(c.committed())
          .containsExactlyInAnyOrderEntriesOf(Map.of(c.p(0), (long) FIRST, c.p(1), (long) FIRST));

      List<String> args = new ArrayList<>(List.of("offsets", "reset"));
      args.addAll(c.cliStoreArgs());
      args.addAll(
          List.of(
              "--group",
              c.group,
              "--topic",
              c.topic,
              "--to-offset",
              "0:" + RESET_P0 + ",1:" + RESET_P1,
              "--execute"));
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code =
          SluiceCli.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
      assertThat(code)
          .as("exit code of sluice %s; stdout:%n%s%nstderr:%n%s", String.join(" ", args), out, err)
          .isZero();
      assertThat(c.committed())
          .as("positions right after the reset")
          .containsExactlyInAnyOrderEntriesOf(reset);

      produce(c, FIRST, FIRST + MORE);
      failure = first.pipeline.failBatch();
      StreamingContext ctx = first.pipeline.ctx;
      assertThatThrownBy(() -> ctx.awaitTermination(Duration.ofSeconds(30)))
          .as("the context stops with the batch's failure")
          .isInstanceOf(BatchFailedException.class);
      assertThat(ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    }
    assertThat(c.committed())
        .as("the reset is not overwritten by the fenced driver")
        .containsExactlyInAnyOrderEntriesOf(reset);

    try (Run second = start(c, checkpoint)) {
      Seen next = second.pipeline.runBatch();
      assertThat(next.ranges())
          .as("the restart's first batch")
          .containsExactlyInAnyOrder(
              new OffsetRange(c.topic, 0, RESET_P0, FIRST + MORE),
              new OffsetRange(c.topic, 1, RESET_P1, FIRST + MORE));
      List<String> expected = new ArrayList<>(values(0, (int) RESET_P0, FIRST + MORE));
      expected.addAll(values(1, (int) RESET_P1, FIRST + MORE));
      assertThat(next.values()).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(c.committed())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(c.p(0), (long) FIRST + MORE, c.p(1), (long) FIRST + MORE));

    // The transactional sinks wrote batch 0 and the restart's batch, nothing of the fenced batch.
    List<String> written = new ArrayList<>(values(0, 0, FIRST));
    written.addAll(values(1, 0, FIRST));
    written.addAll(values(0, (int) RESET_P0, FIRST + MORE));
    written.addAll(values(1, (int) RESET_P1, FIRST + MORE));
    if (committer == Committer.JDBC_SINK) {
      assertThat(strings(pg, "SELECT v FROM " + c.table()))
          .containsExactlyInAnyOrderElementsOf(written);
    } else if (committer == Committer.KAFKA_SINK) {
      assertThat(kafka.consumeAll(c.outputTopic(), true))
          .extracting(ConsumerRecord::value)
          .containsExactlyInAnyOrderElementsOf(written);
    }

    // Last, so that a store that refuses the commit for another reason (a batch id the reset took)
    // still
    // shows that everything else holds: the fence is by offsets, with its own message.
    OffsetFencedException fenced = causeOfType(failure, OffsetFencedException.class);
    assertThat(fenced).as("the refused commit").hasMessageContaining("another driver or a reset");
    assertThat(fenced.group()).isEqualTo(c.group);
    assertThat(fenced.fromOffset()).isEqualTo(FIRST);
    assertThat(fenced.storedOffset()).isIn(RESET_P0, RESET_P1);
  }

  static <T extends Throwable> T causeOfType(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the cause chain of " + t, t);
  }

  private static void sql(EmbeddedPostgresDatabase pg, String statement) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static List<String> strings(EmbeddedPostgresDatabase pg, String query)
      throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
