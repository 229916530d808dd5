package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link JdbcSink.Builder#copyVia}: COPY into a staging table, then the sink's SQL, in one
 * transaction.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class JdbcCopySinkTest {

  private static final AtomicInteger NEXT = new AtomicInteger();

  private final DataSource ds;
  private final JdbcOffsetStore store;
  private final StreamingContext ctx =
      StreamingContext.builder()
          .appName("jdbc-copy-test")
          .batchInterval(Duration.ofMillis(500))
          .parallelism(3)
          .build();
  private String table;
  private String group;

  JdbcCopySinkTest(EmbeddedPostgresDatabase db) {
    this.ds = db.dataSource();
    this.store = OffsetStores.jdbc(ds);
  }

  @BeforeEach
  void createTable() throws SQLException {
    table = "copied_" + NEXT.incrementAndGet() + "_" + System.nanoTime() % 100000;
    group = "jdbc-copy-group-" + table;
    execute("CREATE TABLE " + table + " (word TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT)");
  }

  @AfterEach
  void stop() {
    ctx.stop(false);
    store.close();
  }

  private JdbcSink<KV<String, Long>> sink(String applySql) {
    return JdbcSink.<KV<String, Long>>builder()
        .dataSource(ds)
        .copyVia(
            table + "_stage",
            "word text, n bigint, note text",
            kv ->
                Arrays.asList(
                    kv.key(), kv.value(), kv.key().length() % 2 == 0 ? null : "w" + kv.key()))
        .sql(applySql)
        .offsetStore(store)
        .batchSize(7)
        .build();
  }

  private String upsert() {
    return "INSERT INTO "
        + table
        + " (word, n, note) SELECT word, sum(n), max(note) FROM "
        + table
        + "_stage"
        + " GROUP BY word ON CONFLICT (word) DO UPDATE SET n = "
        + table
        + ".n + EXCLUDED.n";
  }

  private RDD<KV<String, Long>> words(List<String> words) {
    return ctx.parallelize(words.stream().map(w -> KV.of(w, 1L)).toList(), 3);
  }

  @Test
  void copiesEveryValueExactlyAndCommitsTheOffsetsInTheSameTransaction() throws Exception {
    List<String> tricky =
        List.of(
            "plain",
            "",
            "com,ma",
            "quo\"te",
            "new\nline",
            "cr\rlf",
            "\\.",
            "ünïcødé ✓",
            " spaced ",
            "NULL");
    List<String> words = new ArrayList<>();
    IntStream.range(0, 500).forEach(i -> words.add("k" + (i % 50)));
    words.addAll(tricky);
    JdbcSink<KV<String, Long>> sink = sink(upsert());
    sink.open(ctx);

    sink.write(words(words), TestOffsets.batch(0, group, "orders"));
    sink.write(words(words), TestOffsets.batch(1, group, "orders"));

    Map<String, Long> rows = rows();
    assertThat(rows).hasSize(60);
    assertThat(rows.get("k0")).isEqualTo(20L);
    tricky.forEach(w -> assertThat(rows).as("word [%s]", w).containsEntry(w, 2L));
    assertThat(note("")).isNull();
    assertThat(note("quo\"te")).isNull();
    assertThat(note("plain")).isEqualTo("wplain");
    assertThat(note("cr\rlf")).isEqualTo("wcr\rlf");
    assertThat(note("com,ma")).isNull();
    assertThat(store.committed(group)).containsEntry(new TopicPartition("orders", 0), 20L);
    assertThat(store.lastBatchId(group)).hasValue(1);
    sink.close();
  }

  @Test
  void aFailingApplyStatementRollsBackRowsAndOffsetsAndTheNextBatchStillWorks() throws Exception {
    JdbcSink<KV<String, Long>> broken =
        sink("INSERT INTO " + table + " (word, n) SELECT word, n / 0 FROM " + table + "_stage");
    broken.open(ctx);
    assertThatThrownBy(
            () -> broken.write(words(List.of("a", "b")), TestOffsets.batch(0, group, "orders")))
        .isInstanceOf(SinkException.class)
        .hasMessageContaining("rolled back")
        .hasMessageContaining("division by zero");
    assertThat(rows()).isEmpty();
    assertThat(store.lastBatchId(group)).isEmpty();
    broken.close();

    JdbcSink<KV<String, Long>> sink = sink(upsert());
    sink.open(ctx);
    sink.write(words(List.of("a", "b", "a")), TestOffsets.batch(0, group, "orders"));
    assertThat(rows()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 2L, "b", 1L));
    sink.close();
  }

  @Test
  void copyModeSettingsAreCheckedAtBuild() {
    assertThatThrownBy(
            () ->
                JdbcSink.<String>builder()
                    .dataSource(ds)
                    .sql("SELECT 1")
                    .copyVia("bad name", "x text", s -> List.of(s))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("copyVia's stagingTable must be a plain SQL identifier, was 'bad name'");
    assertThatThrownBy(
            () ->
                JdbcSink.<String>builder()
                    .dataSource(ds)
                    .sql("SELECT 1")
                    .copyVia("stage", "x text", s -> List.of(s))
                    .binder((st, s) -> st.setString(1, s))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("binder does not apply with copyVia");
  }

  private Map<String, Long> rows() throws SQLException {
    Map<String, Long> result = new LinkedHashMap<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT word, n FROM " + table)) {
      while (rs.next()) {
        result.put(rs.getString(1), rs.getLong(2));
      }
    }
    return result;
  }

  private String note(String word) throws SQLException {
    try (Connection c = ds.getConnection();
        var ps = c.prepareStatement("SELECT note FROM " + table + " WHERE word = ?")) {
      ps.setString(1, word);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("row for [%s]", word).isTrue();
        return rs.getString(1);
      }
    }
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
