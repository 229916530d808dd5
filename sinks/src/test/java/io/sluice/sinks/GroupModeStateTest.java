package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.state.StateSpec;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
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
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keyed state in group mode moves with its input partitions: a {@code mapWithState} running count
 * per Kafka key, written exactly once to PostgreSQL with its offsets and its state changes; members
 * join and leave, and every key's counts in the output are exactly 1, 2, ..., n (a lost state would
 * count some key from 1 again, a state applied twice would skip or repeat a number).
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class GroupModeStateTest {

  private static final int KEYS = 20;

  /** One process of the application. */
  static final class Member implements AutoCloseable {
    final StreamingContext ctx;
    final AtomicLong records = new AtomicLong();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Member(
        EmbeddedKafka kafka,
        String app,
        String in,
        Path checkpoint,
        JdbcOffsetStore store,
        Consumer<DStream<ConsumerRecord<String, String>>> pipeline) {
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
      params.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
      params.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
      params.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      DirectStreamOptions.Builder options = DirectStreamOptions.builder().groupMembership(true);
      if (store != null) {
        options.offsetStore(store);
      }
      pipeline.accept(
          KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(List.of(in), params),
              options.build()));
    }

    Member started() {
      ctx.start();
      return this;
    }

    @Override
    public void close() {
      ctx.stop(true);
    }
  }

  /** A member counting records per key into {@code table} (key, n). */
  static Member counting(
      EmbeddedKafka kafka,
      String app,
      String in,
      Path checkpoint,
      DataSource ds,
      String table,
      JdbcOffsetStore store) {
    return counting(kafka, app, in, checkpoint, store, RunningCounts.sink(ds, table, store));
  }

  /** A member counting records per key into {@code output}; {@code store} null: the group. */
  static Member counting(
      EmbeddedKafka kafka,
      String app,
      String in,
      Path checkpoint,
      JdbcOffsetStore store,
      io.sluice.engine.BatchOutput<KV<String, Long>> output) {
    return new Member(
            kafka,
            app,
            in,
            checkpoint,
            store,
            records ->
                records
                    .mapToPair(r -> KV.of(r.key(), 1L))
                    .mapWithState(RunningCounts.spec())
                    .writeTo(output))
        .started();
  }

  /** A member counting records per key into topic {@code out} with the exactly-once Kafka sink. */
  static Member countingToKafka(
      EmbeddedKafka kafka, String app, String in, Path checkpoint, String out) {
    return counting(
        kafka,
        app,
        in,
        checkpoint,
        null,
        KafkaSink.<KV<String, Long>>builder()
            .producerConfig(
                Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.bootstrapServers(),
                    ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                    10_000))
            .keySerializer(new StringSerializer())
            .valueSerializer(new StringSerializer())
            .record(kv -> new ProducerRecord<>(out, kv.key(), String.valueOf(kv.value())))
            .exactlyOnce()
            .build());
  }

  /**
   * The rebalance every test here goes through: member A alone until the first {@code produced}
   * records are processed; B joins (some of A's partitions move to B with their state) and writes;
   * A leaves (every partition moves to B, A's with the state A kept); 200 more records, until the
   * output holds one row per record. {@code produce(from, n)} produces records {@code from .. from
   * + n - 1} and returns n. Returns the records produced in all.
   */
  private static int joinThenLeave(
      java.util.function.Function<String, Member> start,
      java.util.function.IntBinaryOperator produce,
      java.util.concurrent.Callable<Integer> outputRows)
      throws Exception {
    int produced = produce.applyAsInt(0, 200);
    Member a = start.apply("a");
    Member b = null;
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> outputRows.call() >= 200);
      b = start.apply("b");
      Member joined = b;
      int[] next = {produced};
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                next[0] += produce.applyAsInt(next[0], 40);
                return joined.records.get() > 0;
              });
      produced = next[0];
      a.close();
      a.ctx.awaitTermination();
      produced += produce.applyAsInt(produced, 200);
      int expected = produced;
      await().atMost(Duration.ofSeconds(90)).until(() -> outputRows.call() >= expected);
      assertThat(a.failure.get()).isNull();
      assertThat(b.failure.get()).isNull();
    } finally {
      a.close();
      if (b != null) {
        b.close();
      }
    }
    return produced;
  }

  @Test
  void countsPerKeyStayExactThroughTheKafkaSinksCompactedChangelog(
      EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
    String app = "group-kstate-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    kafka.createTopic(in, 4);
    kafka.createTopic(out, 2);
    int produced =
        joinThenLeave(
            name -> countingToKafka(kafka, app, in, dir.resolve(name), out),
            (from, n) -> produce(kafka, in, from, n),
            () -> kafka.consumeAll(out, true).size());
    Map<String, List<Long>> counts = new TreeMap<>();
    for (ConsumerRecord<String, String> r : kafka.consumeAll(out, true)) {
      counts.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Long.parseLong(r.value()));
    }
    counts.values().forEach(java.util.Collections::sort);
    RunningCounts.assertExact(counts, perKey(produced));
    // The changelog is a compacted topic; its committed records name every key.
    String changelog = app + "-mapWithState-2-" + in + "-changelog";
    try (var admin = kafka.admin()) {
      var config =
          admin
              .describeConfigs(
                  List.of(
                      new org.apache.kafka.common.config.ConfigResource(
                          org.apache.kafka.common.config.ConfigResource.Type.TOPIC, changelog)))
              .all()
              .get()
              .values()
              .iterator()
              .next();
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
    }
    assertThat(
            kafka.consumeAll(changelog, true).stream()
                .map(r -> r.key().substring(r.key().indexOf("k")))
                .distinct()
                .count())
        .isGreaterThanOrEqualTo(KEYS);
  }

  @Test
  void countsPerKeyStayExactWhilePartitionsMoveBetweenMembers(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, @TempDir Path dir) throws Exception {
    String app = "group-state-" + System.nanoTime();
    String in = "in-" + app;
    String table = "counts_" + System.nanoTime() % 1_000_000;
    kafka.createTopic(in, 4);
    DataSource ds = db.dataSource();
    RunningCounts.createTable(ds, table);
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      int produced =
          joinThenLeave(
              name -> counting(kafka, app, in, dir.resolve(name), ds, table, store),
              (from, n) -> produce(kafka, in, from, n),
              () -> RunningCounts.rowCount(ds, table));
      Map<String, Long> perKey = perKey(produced);
      RunningCounts.assertExact(RunningCounts.read(ds, table), perKey);
      // The changelog holds every key once, under the partition its records come from.
      assertThat(stateRows(ds, app)).isEqualTo(KEYS);
      assertThat(store.committed(app)).isEqualTo(kafka.endOffsets(in));
    }
  }

  /**
   * A member counting per country, where the input is keyed by user: the stream is re-keyed through
   * topic {@code mid} (KafkaThrough, its offsets committed by the through sink), and the count per
   * country kept over the stream read back, committed with the JDBC sink.
   */
  static Member countingPerCountry(
      EmbeddedKafka kafka,
      String app,
      String in,
      String mid,
      Path checkpoint,
      DataSource ds,
      String table,
      JdbcOffsetStore store) {
    return new Member(
            kafka,
            app,
            in,
            checkpoint,
            null,
            records ->
                KafkaThrough.through(
                        records,
                        mid,
                        r -> KV.of(r.value(), r.key()),
                        org.apache.kafka.common.serialization.Serdes.String(),
                        org.apache.kafka.common.serialization.Serdes.String(),
                        Map.of(
                            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                            kafka.bootstrapServers(),
                            ConsumerConfig.GROUP_ID_CONFIG,
                            app + "-mid",
                            ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                            10_000,
                            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
                            6_000),
                        DirectStreamOptions.builder()
                            .groupMembership(true)
                            .offsetStore(store)
                            .build())
                    .mapToPair(r -> KV.of(r.key(), 1L))
                    .mapWithState(RunningCounts.spec())
                    .writeTo(RunningCounts.sink(ds, table, store)))
        .started();
  }

  @Test
  void countsPerANewKeyStayExactThroughAnIntermediateTopic(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, @TempDir Path dir) throws Exception {
    String app = "group-through-" + System.nanoTime();
    String in = "in-" + app;
    String mid = "mid-" + app;
    String table = "per_country_" + System.nanoTime() % 1_000_000;
    kafka.createTopic(in, 4);
    kafka.createTopic(mid, 3);
    DataSource ds = db.dataSource();
    RunningCounts.createTable(ds, table);
    // Keyed by user; the state counts per country, the value.
    java.util.function.IntFunction<ProducerRecord<String, String>> record =
        i -> new ProducerRecord<>(in, "u" + i % 50, "c" + i % 7);
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      int produced =
          joinThenLeave(
              name -> countingPerCountry(kafka, app, in, mid, dir.resolve(name), ds, table, store),
              (from, n) -> produceWith(kafka, record, from, n),
              () -> RunningCounts.rowCount(ds, table));
      Map<String, Long> perCountry = new TreeMap<>();
      for (int i = 0; i < produced; i++) {
        perCountry.merge("c" + i % 7, 1L, Long::sum);
      }
      RunningCounts.assertExact(RunningCounts.read(ds, table), perCountry);
      // Each input committed by the output that reads it: the source in the Kafka group, the
      // intermediate topic in the JDBC store.
      assertThat(store.committed(app + "-mid")).isEqualTo(kafka.endOffsets(mid));
      Map<org.apache.kafka.common.TopicPartition, Long> source = new HashMap<>();
      kafka.committedOffsets(app).forEach((tp, om) -> source.put(tp, om.offset()));
      assertThat(source).isEqualTo(kafka.endOffsets(in));
    }
  }

  private static int produceWith(
      EmbeddedKafka kafka,
      java.util.function.IntFunction<ProducerRecord<String, String>> record,
      int from,
      int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      records.add(record.apply(i));
    }
    kafka.produce(records);
    return n;
  }

  @Test
  void stateAfterAReKeyingShuffleIsRefusedAtStartWithTheWayOut(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, @TempDir Path dir) throws Exception {
    String app = "group-rekey-" + System.nanoTime();
    String in = "in-" + app;
    kafka.createTopic(in, 2);
    DataSource ds = db.dataSource();
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      Member m =
          new Member(
              kafka,
              app,
              in,
              dir,
              store,
              records ->
                  records
                      .mapToPair(r -> KV.of(r.value(), 1L))
                      .reduceByKey(Long::sum)
                      .updateStateByKey((List<Long> ones, java.util.Optional<Long> s) -> s)
                      .writeTo(
                          JdbcSink.<KV<String, Long>>builder()
                              .dataSource(ds)
                              .sql("SELECT 1 WHERE ? IS NULL AND ? IS NULL")
                              .binder((st, kv) -> {})
                              .offsetStore(store)
                              .build()));
      try {
        assertThatThrownBy(m.ctx::start)
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("updateStateByKey")
            .hasMessageContaining("follows 'reduceByKey")
            .hasMessageContaining("KafkaThrough.through(");
      } finally {
        m.ctx.stop(false);
      }
    }
  }

  @Test
  void stateWithAnInitialStateIsRefusedInGroupMode(EmbeddedKafka kafka, @TempDir Path dir) {
    String app = "group-initial-" + System.nanoTime();
    String in = "in-" + app;
    kafka.createTopic(in, 2);
    Member m =
        new Member(
            kafka,
            app,
            in,
            dir,
            null,
            records ->
                records
                    .mapToPair(r -> KV.of(r.key(), 1L))
                    .mapWithState(
                        StateSpec.<String, Long, Long, Long>function(
                                (key, one, state) -> state.getOption().orElse(0L))
                            .initialState(records.context().parallelize(List.of(KV.of("k0", 5L)))))
                    .writeTo(
                        KafkaSink.<Long>builder()
                            .producerConfig(
                                Map.of(
                                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                    kafka.bootstrapServers()))
                            .keySerializer(new StringSerializer())
                            .valueSerializer(new StringSerializer())
                            .record(n -> new ProducerRecord<>(in, "x", String.valueOf(n)))
                            .exactlyOnce()
                            .build()));
    try {
      assertThatThrownBy(m.ctx::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("mapWithState '")
          .hasMessageContaining("has an initial state");
    } finally {
      m.ctx.stop(false);
    }
  }

  private static int stateRows(DataSource ds, String app) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT COUNT(DISTINCT state_key) FROM sluice_state WHERE app = '" + app + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static Map<String, Long> perKey(int produced) {
    Map<String, Long> out = new TreeMap<>();
    for (int i = 0; i < produced; i++) {
      out.merge(key(i), 1L, Long::sum);
    }
    return out;
  }

  private static String key(int i) {
    return "k" + (i % KEYS);
  }

  /** Produces records {@code from .. from + n - 1}, keyed (Kafka's default partitioner); n. */
  private static int produce(EmbeddedKafka kafka, String topic, int from, int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      records.add(new ProducerRecord<>(topic, key(i), "v" + i));
    }
    kafka.produce(records);
    return n;
  }
}
