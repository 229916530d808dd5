package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.engine.Batch;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class JdbcSinkTest {

  private static final AtomicInteger NEXT = new AtomicInteger();

  private final EmbeddedPostgresDatabase db;
  private final DataSource ds;
  private final JdbcOffsetStore store;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final StreamingContext ctx =
      StreamingContext.builder()
          .appName("jdbc-sink-test")
          .batchInterval(Duration.ofMillis(500))
          .parallelism(3)
          .meterRegistry(registry)
          .build();
  private String table;
  private String group;

  JdbcSinkTest(EmbeddedPostgresDatabase db) {
    this.db = db;
    this.ds = db.dataSource();
    this.store = OffsetStores.jdbc(ds);
  }

  @BeforeEach
  void createTable() throws SQLException {
    int n = NEXT.incrementAndGet();
    table = "totals_" + n + "_" + System.nanoTime() % 100000;
    group = "jdbc-sink-group-" + table;
    execute("CREATE TABLE " + table + " (word VARCHAR(100) PRIMARY KEY, n BIGINT NOT NULL)");
  }

  @AfterEach
  void stop() {
    ctx.stop(false);
    store.close();
  }

  private JdbcSink<KV<String, Long>> addingSink(RowBinder<KV<String, Long>> binder) {
    return JdbcSink.<KV<String, Long>>builder()
        .dataSource(ds)
        .sql(
            "INSERT INTO "
                + table
                + " (word, n) VALUES (?, ?) "
                + "ON CONFLICT (word) DO UPDATE SET n = "
                + table
                + ".n + EXCLUDED.n")
        .binder(binder)
        .offsetStore(store)
        .batchSize(2)
        .build();
  }

  private static void bindKv(java.sql.PreparedStatement st, KV<String, Long> kv)
      throws SQLException {
    st.setString(1, kv.key());
    st.setLong(2, kv.value());
  }

  private RDD<KV<String, Long>> counts(String... words) {
    return ctx.parallelize(Arrays.stream(words).map(w -> KV.of(w, 1L)).toList(), 3);
  }

  @Test
  void commitsRowsAndOffsetsInOneTransaction() throws Exception {
    JdbcSink<KV<String, Long>> sink = addingSink(JdbcSinkTest::bindKv);
    sink.open(ctx);
    Batch batch = TestOffsets.batch(0, group, "orders");

    sink.write(counts("a", "b", "c", "a", "d"), batch);

    assertThat(totals())
        .containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 2L, "b", 1L, "c", 1L, "d", 1L)));
    assertThat(store.lastBatchId(group)).hasValue(0);
    assertThat(store.committed(group))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(new TopicPartition("orders", 0), 10L, new TopicPartition("orders", 1), 5L));
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    assertThat(sink.exactlyOnceGaps()).isEmpty();
    assertThat(registry.get("sluice.sink.records").counter().count()).isEqualTo(5.0);
    assertThat(registry.get("sluice.sink.write").timer().count()).isEqualTo(1);
    sink.close();
  }

  @Test
  void aBatchTheStoreAlreadyCoversIsRolledBackSoAnAddingUpsertAppliesOnce() throws Exception {
    JdbcSink<KV<String, Long>> sink = addingSink(JdbcSinkTest::bindKv);
    sink.open(ctx);

    sink.write(counts("a", "b", "a"), TestOffsets.batch(0, group, "orders"));
    sink.write(counts("a", "c"), TestOffsets.batch(1, group, "orders"));
    // The engine never replays a batch the store covers; if one arrives anyway, its transaction is
    // refused.
    assertThatThrownBy(() -> sink.write(counts("a", "c"), TestOffsets.batch(1, group, "orders")))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 1")
        .hasMessageContaining("rolled back");
    assertThatThrownBy(
            () -> sink.write(counts("a", "b", "a"), TestOffsets.batch(0, group, "orders")))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 0");
    sink.write(counts("b"), TestOffsets.batch(2, group, "orders"));

    assertThat(totals()).containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 3L, "b", 2L, "c", 1L)));
    assertThat(store.lastBatchId(group)).hasValue(2);
    assertThat(store.committed(group)).containsEntry(new TopicPartition("orders", 0), 30L);
    assertThat(registry.get("sluice.sink.records").counter().count()).isEqualTo(6.0);
  }

  @Test
  void failureMidBatchLeavesNeitherRowsNorOffsets() throws Exception {
    JdbcSink<KV<String, Long>> sink =
        addingSink(
            (st, kv) -> {
              if (kv.key().equals("poison")) {
                throw new SQLException("cannot bind poison");
              }
              bindKv(st, kv);
            });
    sink.open(ctx);
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      words.add("w" + i);
    }
    words.add("poison");
    Batch batch = TestOffsets.batch(0, group, "orders");

    assertThatThrownBy(() -> sink.write(counts(words.toArray(String[]::new)), batch))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("batch 0")
        .hasMessageContaining("cannot bind poison");

    assertThat(totals()).isEmpty();
    assertThat(store.lastBatchId(group)).isEmpty();
    assertThat(store.committed(group)).isEmpty();

    // The replay (the same batch without the bad record, e.g. after a fix) commits normally.
    words.remove("poison");
    sink.write(counts(words.toArray(String[]::new)), batch);
    assertThat(totals()).hasSize(50);
    assertThat(store.lastBatchId(group)).hasValue(0);
  }

  @Test
  void statementFailureRollsBackEarlierExecutedRows() throws Exception {
    // batchSize 2: the first rows are already executed when the NOT NULL violation comes.
    JdbcSink<KV<String, Long>> sink =
        addingSink(
            (st, kv) -> {
              st.setString(1, kv.key());
              if (kv.key().equals("null")) {
                st.setNull(2, java.sql.Types.BIGINT);
              } else {
                st.setLong(2, kv.value());
              }
            });
    sink.open(ctx);
    RDD<KV<String, Long>> rdd =
        ctx.parallelize(
            List.of(
                KV.of("a", 1L), KV.of("b", 1L), KV.of("c", 1L), KV.of("d", 1L), KV.of("null", 1L)),
            1);

    assertThatThrownBy(() -> sink.write(rdd, TestOffsets.batch(0, group, "orders")))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("rolled back");

    assertThat(totals()).isEmpty();
    assertThat(store.lastBatchId(group)).isEmpty();
  }

  @Test
  void totalsAreExactAfterShuffleAndReplay() throws Exception {
    JdbcSink<KV<String, Long>> sink = addingSink(JdbcSinkTest::bindKv);
    sink.open(ctx);
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      words.add("k" + (i % 37));
    }
    RDD<KV<String, Long>> reduced =
        ctx.parallelize(words, 4).mapToPair(w -> KV.of(w, 1L)).reduceByKey(Long::sum, 3);

    sink.write(reduced, TestOffsets.batch(0, group, "words"));
    sink.write(reduced, TestOffsets.batch(1, group, "words"));
    assertThatThrownBy(() -> sink.write(reduced, TestOffsets.batch(1, group, "words")))
        .isInstanceOf(SinkException.class);

    Map<String, Long> totals = totals();
    assertThat(totals).hasSize(37);
    long expected0 = 2 * words.stream().filter("k0"::equals).count();
    assertThat(totals.get("k0")).isEqualTo(expected0);
    assertThat(totals.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(6000);
    assertThat(store.lastBatchId(group)).hasValue(1);
  }

  @Test
  void ownsAHikariPoolWhenGivenAJdbcUrl() throws Exception {
    JdbcSink<KV<String, Long>> sink =
        JdbcSink.<KV<String, Long>>builder()
            .jdbcUrl(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .sql("INSERT INTO " + table + " (word, n) VALUES (?, ?)")
            .binder(JdbcSinkTest::bindKv)
            .build();
    sink.open(ctx);
    sink.write(counts("x", "y"), TestOffsets.batch(0, group, "orders"));
    sink.close();
    sink.close();

    assertThat(totals()).containsExactlyEntriesOf(new TreeMap<>(Map.of("x", 1L, "y", 1L)));
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
    assertThat(sink.exactlyOnceGaps())
        .singleElement()
        .asString()
        .contains("JdbcSink[jdbc] has no offset store");
    assertThat(store.lastBatchId(group)).isEmpty();
  }

  @Test
  void builderNamesTheBadSetting() {
    assertThatThrownBy(() -> JdbcSink.<String>builder().sql("x").binder((s, r) -> {}).build())
        .hasMessage("dataSource or jdbcUrl must be set, were null and null");
    assertThatThrownBy(() -> JdbcSink.<String>builder().dataSource(ds).binder((s, r) -> {}).build())
        .hasMessage("sql must be set and not blank, was null");
    assertThatThrownBy(() -> JdbcSink.<String>builder().dataSource(ds).sql("x").build())
        .hasMessage("binder must be set, was null");
    assertThatThrownBy(
            () ->
                JdbcSink.<String>builder()
                    .dataSource(ds)
                    .sql("x")
                    .binder((s, r) -> {})
                    .batchSize(0)
                    .build())
        .hasMessage("batchSize must be > 0, was 0");
  }

  private Map<String, Long> totals() throws SQLException {
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

  private void execute(String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
