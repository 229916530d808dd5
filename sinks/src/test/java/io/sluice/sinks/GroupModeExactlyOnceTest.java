package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.internal.KafkaSinkImpl;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group mode into the exactly-once Kafka and JDBC sinks: members of one application share the
 * input's partitions, each sink commits with its member's generation (KIP-447) under a
 * transactional id of its own, and every input record reaches the output once across rebalances.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class GroupModeExactlyOnceTest {

  /** One process of the application: a group-mode stream of the values into {@code output}. */
  static final class Member implements AutoCloseable {
    final StreamingContext ctx;
    final AtomicLong records = new AtomicLong();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Member(
        EmbeddedKafka kafka,
        String app,
        String in,
        Path checkpoint,
        DirectStreamOptions options,
        java.util.function.Consumer<DStream<String>> output) {
      ctx =
          StreamingContext.builder()
              .appName(app)
              .batchInterval(Duration.ofMillis(200))
              .parallelism(2)
              .checkpointDir(checkpoint)
              .exactlyOnce(true)
              .build();
      ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchCompleted(BatchInfo batch) {
              records.addAndGet(batch.numRecords());
            }

            @Override
            public void onBatchFailed(BatchInfo batch, Throwable cause) {
              failure.compareAndSet(null, cause);
            }
          });
      Map<String, Object> params = new HashMap<>();
      params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      params.put(ConsumerConfig.GROUP_ID_CONFIG, app);
      params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
      params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
      params.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      params.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
      params.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
      output.accept(
          KafkaDirect.createDirectStream(
                  ctx, ConsumerStrategies.<String, String>subscribe(List.of(in), params), options)
              .map(ConsumerRecord::value));
      ctx.start();
    }

    @Override
    public void close() {
      ctx.stop(true);
    }
  }

  /** A member writing to {@code out} through the exactly-once Kafka sink {@code sink}. */
  static Member kafkaMember(
      EmbeddedKafka kafka, String app, String in, Path checkpoint, KafkaSinkImpl<String> sink) {
    return new Member(
        kafka,
        app,
        in,
        checkpoint,
        DirectStreamOptions.builder().groupMembership(true).build(),
        values -> values.writeTo(sink));
  }

  static KafkaSinkImpl<String> kafkaSink(EmbeddedKafka kafka, String out) {
    return (KafkaSinkImpl<String>)
        KafkaSink.<String>builder()
            .producerConfig(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
            .keySerializer(new StringSerializer())
            .valueSerializer(new StringSerializer())
            .record(v -> new ProducerRecord<>(out, v, v))
            .exactlyOnce()
            .build();
  }

  /** A member writing rows to {@code table}, its progress in {@code store} with them. */
  static Member jdbcMember(
      EmbeddedKafka kafka,
      String app,
      String in,
      Path checkpoint,
      DataSource ds,
      String table,
      JdbcOffsetStore store) {
    return new Member(
        kafka,
        app,
        in,
        checkpoint,
        DirectStreamOptions.builder().groupMembership(true).offsetStore(store).build(),
        values ->
            values.writeTo(
                JdbcSink.<String>builder()
                    .dataSource(ds)
                    .sql("INSERT INTO " + table + " (v) VALUES (?)")
                    .binder((st, v) -> st.setString(1, v))
                    .offsetStore(store)
                    .build()));
  }

  @Test
  void membersWriteEveryRecordOnceAcrossRebalances(EmbeddedKafka kafka, @TempDir Path dir)
      throws Exception {
    String app = "group-eos-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    kafka.createTopic(in, 4);
    kafka.createTopic(out, 2);
    int produced = produce(kafka, in, 0, 200);
    KafkaSinkImpl<String> sinkA = kafkaSink(kafka, out);
    KafkaSinkImpl<String> sinkB = kafkaSink(kafka, out);
    Member a = kafkaMember(kafka, app, in, dir.resolve("a"), sinkA);
    Member b = null;
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> a.records.get() == 200);
      b = kafkaMember(kafka, app, in, dir.resolve("b"), sinkB);
      produced = produceUntilWritten(kafka, in, produced, b);
      assertThat(sinkA.transactionalId())
          .startsWith(app + "-")
          .isNotEqualTo(sinkB.transactionalId());
      // The second member leaves: its partitions return to the first after its last batch.
      b.close();
      b.ctx.awaitTermination();
      produced += produce(kafka, in, produced, 200);
      int expected = produced;
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> kafka.consumeAll(out, true).size() >= expected);
      assertThat(a.failure.get()).isNull();
      assertThat(b.failure.get()).isNull();
    } finally {
      a.close();
      if (b != null) {
        b.close();
      }
    }
    List<String> values =
        kafka.consumeAll(out, true).stream().map(ConsumerRecord::value).sorted().toList();
    assertThat(values).isEqualTo(values(produced));
    Map<TopicPartition, Long> ends = kafka.endOffsets(in);
    Map<TopicPartition, Long> committed = new HashMap<>();
    kafka.committedOffsets(app).forEach((tp, om) -> committed.put(tp, om.offset()));
    assertThat(committed).isEqualTo(ends);
  }

  @Test
  void membersWriteEveryRecordOnceToPostgresWithTheirOffsets(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, @TempDir Path dir) throws Exception {
    String app = "group-jdbc-" + System.nanoTime();
    String in = "in-" + app;
    String table = "rows_" + System.nanoTime() % 1_000_000;
    kafka.createTopic(in, 4);
    DataSource ds = db.dataSource();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE " + table + " (v VARCHAR(20) NOT NULL)");
    }
    int produced = produce(kafka, in, 0, 200);
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      Member a = jdbcMember(kafka, app, in, dir.resolve("a"), ds, table, store);
      Member b = null;
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> a.records.get() == 200);
        b = jdbcMember(kafka, app, in, dir.resolve("b"), ds, table, store);
        produced = produceUntilWritten(kafka, in, produced, b);
        b.close();
        b.ctx.awaitTermination();
        produced += produce(kafka, in, produced, 200);
        int expected = produced;
        await().atMost(Duration.ofSeconds(60)).until(() -> rows(ds, table).size() >= expected);
        assertThat(a.failure.get()).isNull();
        assertThat(b.failure.get()).isNull();
      } finally {
        a.close();
        if (b != null) {
          b.close();
        }
      }
      assertThat(rows(ds, table)).isEqualTo(values(produced));
      Map<TopicPartition, Long> stored = new HashMap<>(store.committed(app));
      assertThat(stored).isEqualTo(kafka.endOffsets(in));
      // Both processes numbered their batches from 0; the store's history numbers them apart.
      List<Long> ids = store.history(app, 10_000).stream().map(BatchCommit::batchId).toList();
      assertThat(ids)
          .doesNotHaveDuplicates()
          .isSortedAccordingTo(java.util.Comparator.reverseOrder());
    }
  }

  private static List<String> rows(DataSource ds, String table) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT v FROM " + table + " ORDER BY v")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /**
   * Produces rounds of 20 records after {@code from} until {@code joined} has written some of them;
   * returns the records produced in all.
   */
  private static int produceUntilWritten(EmbeddedKafka kafka, String in, int from, Member joined) {
    int[] next = {from};
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              next[0] += produce(kafka, in, next[0], 20);
              return joined.records.get() > 0;
            });
    return next[0];
  }

  /** The values of records 0 .. n - 1, sorted. */
  private static List<String> values(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(value(i));
    }
    return out;
  }

  private static String value(int i) {
    return String.format("v%06d", i);
  }

  /** Produces values {@code from .. from + n - 1} round-robin over 4 partitions; returns n. */
  private static int produce(EmbeddedKafka kafka, String topic, int from, int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      records.add(new ProducerRecord<>(topic, i % 4, "k" + i, value(i)));
    }
    kafka.produce(records);
    return n;
  }
}
