package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.KV;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sinks registered with {@code writeTo} on a running context: opened at start, one write per batch.
 */
@ExtendWith({EmbeddedPostgresExtension.class, EmbeddedKafkaExtension.class})
class PipelineTest {

  private static final Duration INTERVAL = Duration.ofMillis(200);
  private static final int PER_BATCH = 100;

  /** Batch n reads offsets [n*100, n*100+100) of partition 0: the words k0..k6 by offset. */
  static final class NumberInput extends InputDStream<String, TestOffsets> {
    private final String group;
    private final String topic;

    NumberInput(StreamingContext ctx, String group, String topic) {
      super(ctx, "numbers", TestOffsets.class);
      this.group = group;
      this.topic = topic;
    }

    @Override
    public TestOffsets plan(long batchId, Instant batchTime) {
      return new TestOffsets(
          group,
          List.of(new OffsetRange(topic, 0, batchId * PER_BATCH, (batchId + 1) * PER_BATCH)));
    }

    @Override
    public RDD<String> compute(long batchId, Instant batchTime, TestOffsets plan) {
      List<String> words = new ArrayList<>();
      OffsetRange r = plan.ranges().get(0);
      for (long o = r.fromOffset(); o < r.untilOffset(); o++) {
        words.add("k" + (o % 7));
      }
      return context().parallelize(words, 3);
    }
  }

  private static final class Pipeline implements AutoCloseable {
    final ManualClock clock = new ManualClock();
    final StreamingContext ctx;
    final AtomicInteger completed = new AtomicInteger();

    Pipeline(String app) {
      ctx =
          StreamingContext.builder()
              .appName(app)
              .batchInterval(INTERVAL)
              .parallelism(2)
              .clock(clock)
              .build();
      ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchCompleted(BatchInfo batch) {
              completed.incrementAndGet();
            }
          });
    }

    void runBatches(int n) {
      for (int i = 0; i < n; i++) {
        int before = completed.get();
        clock.advance(INTERVAL);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> completed.get() > before || ctx.state() == StreamingContext.State.STOPPED);
      }
    }

    @Override
    public void close() {
      ctx.stop(false);
    }
  }

  @Test
  void jdbcSinkAfterAShuffleCommitsExactTotalsAndOffsetsPerBatch(EmbeddedPostgresDatabase db)
      throws Exception {
    DataSource ds = db.dataSource();
    String table = "pipeline_totals_" + System.nanoTime() % 1_000_000;
    execute(ds, "CREATE TABLE " + table + " (word VARCHAR(20) PRIMARY KEY, n BIGINT NOT NULL)");
    String group = "pipeline-" + table;
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds);
        Pipeline p = new Pipeline("pipeline-jdbc")) {
      java.util.Set<Long> taskBatchIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
      new NumberInput(p.ctx, group, "numbers")
          .mapToPair(
              w -> {
                // Tasks the sink runs from its feeder thread still belong to the batch.
                taskBatchIds.add(
                    io.sluice.engine.rdd.TaskContext.current().orElseThrow().batchId());
                return KV.of(w, 1L);
              })
          .reduceByKey(Long::sum)
          .writeTo(
              JdbcSink.<KV<String, Long>>builder()
                  .dataSource(ds)
                  .sql(
                      "INSERT INTO "
                          + table
                          + " (word, n) VALUES (?, ?) ON CONFLICT (word) DO UPDATE"
                          + " SET n = "
                          + table
                          + ".n + EXCLUDED.n")
                  .binder(
                      (st, kv) -> {
                        st.setString(1, kv.key());
                        st.setLong(2, kv.value());
                      })
                  .offsetStore(store)
                  .build());
      p.ctx.start();
      p.runBatches(3);

      assertThat(p.completed.get()).isEqualTo(3);
      Map<String, Long> totals = totals(ds, table);
      assertThat(totals.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(300);
      assertThat(totals.get("k0")).isEqualTo(43); // offsets 0, 7, ..., 294
      assertThat(store.lastBatchId(group)).hasValue(2);
      assertThat(store.committed(group)).containsValue(300L);
      assertThat(taskBatchIds).containsExactlyInAnyOrder(0L, 1L, 2L);
    }
  }

  @Test
  void failingJdbcSinkFailsTheBatchAndStopsTheContext(EmbeddedPostgresDatabase db)
      throws Exception {
    DataSource ds = db.dataSource();
    String table = "pipeline_fail_" + System.nanoTime() % 1_000_000;
    execute(ds, "CREATE TABLE " + table + " (word VARCHAR(20) PRIMARY KEY, n BIGINT NOT NULL)");
    String group = "pipeline-" + table;
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds);
        Pipeline p = new Pipeline("pipeline-jdbc-fail")) {
      new NumberInput(p.ctx, group, "numbers")
          .mapToPair(w -> KV.of(w, 1L))
          .writeTo(
              JdbcSink.<KV<String, Long>>builder()
                  .dataSource(ds)
                  .sql("INSERT INTO " + table + " (word, n) VALUES (?, ?)") // duplicate keys fail
                  .binder(
                      (st, kv) -> {
                        st.setString(1, kv.key());
                        st.setLong(2, kv.value());
                      })
                  .offsetStore(store)
                  .build());
      p.ctx.start();
      p.clock.advance(INTERVAL);

      assertThatThrownBy(() -> p.ctx.awaitTermination(Duration.ofSeconds(30)))
          .isInstanceOf(BatchFailedException.class)
          .hasStackTraceContaining("batch 0 failed and was rolled back");
      assertThat(totals(ds, table)).isEmpty();
      assertThat(store.lastBatchId(group)).isEmpty();
    }
  }

  @Test
  void kafkaSinkOpensAtStartAndCommitsEachBatchWithItsOffsets(EmbeddedKafka kafka)
      throws Exception {
    String app = "pipeline-kafka-" + System.nanoTime();
    String out = "out-" + app;
    String in = "in-" + app;
    kafka.createTopic(out, 2);
    kafka.createTopic(in, 1);
    try (Pipeline p = new Pipeline(app)) {
      new NumberInput(p.ctx, "group-" + app, in)
          .writeTo(
              KafkaSink.<String>builder()
                  .producerConfig(
                      Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
                  .keySerializer(new StringSerializer())
                  .valueSerializer(new StringSerializer())
                  .record(w -> new ProducerRecord<>(out, w, w))
                  .name("words")
                  .exactlyOnce()
                  .build());
      p.ctx.start();
      p.runBatches(2);

      assertThat(p.completed.get()).isEqualTo(2);
      // The commit is decided when the batch completes; its markers make it readable moments later.
      await().atMost(Duration.ofSeconds(20)).until(() -> kafka.consumeAll(out, true).size() >= 200);
      List<ConsumerRecord<String, String>> records = kafka.consumeAll(out, true);
      assertThat(records).hasSize(200);
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(kafka.committedOffsets("group-" + app).values())
                      .singleElement()
                      .satisfies(
                          om -> {
                            assertThat(om.offset()).isEqualTo(200);
                            assertThat(KafkaCommitMetadata.batchId(om.metadata())).hasValue(1);
                          }));
    }
  }

  private static Map<String, Long> totals(DataSource ds, String table) throws SQLException {
    Map<String, Long> result = new TreeMap<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT word, n FROM " + table)) {
      while (rs.next()) {
        result.put(rs.getString(1), rs.getLong(2));
      }
    }
    return result;
  }

  private static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
