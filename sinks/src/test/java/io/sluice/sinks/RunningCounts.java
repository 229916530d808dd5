package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.KV;
import io.sluice.engine.state.StateSpec;
import io.sluice.offsets.JdbcOffsetStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;
import javax.sql.DataSource;

/**
 * The running count per key that the state tests keep ({@code mapWithState}), the table it is
 * written to, and the check that makes a lost or doubly applied state visible: every key's counts
 * in the output are exactly 1, 2, ..., n.
 */
final class RunningCounts {

  private RunningCounts() {}

  /** Adds one per record to the key's state and emits (key, count). */
  static StateSpec<String, Long, Long, KV<String, Long>> spec() {
    return StateSpec.function(
        (key, one, state) -> {
          long n = state.getOption().orElse(0L) + one.orElse(0L);
          state.update(n);
          return KV.of(key, n);
        });
  }

  /** Creates {@code table (k, n)}. */
  static void createTable(DataSource ds, String table) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE " + table + " (k VARCHAR(20) NOT NULL, n BIGINT NOT NULL)");
    }
  }

  /** The exactly-once sink of (key, count) rows into {@code table}, offsets in {@code store}. */
  static JdbcSink<KV<String, Long>> sink(DataSource ds, String table, JdbcOffsetStore store) {
    return JdbcSink.<KV<String, Long>>builder()
        .dataSource(ds)
        .sql("INSERT INTO " + table + " (k, n) VALUES (?, ?)")
        .binder(
            (st, kv) -> {
              st.setString(1, kv.key());
              st.setLong(2, kv.value());
            })
        .offsetStore(store)
        .build();
  }

  static int rowCount(DataSource ds, String table) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Each key's counts in {@code table}, in ascending order. */
  static Map<String, List<Long>> read(DataSource ds, String table) throws Exception {
    Map<String, List<Long>> out = new TreeMap<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT k, n FROM " + table + " ORDER BY k, n")) {
      while (rs.next()) {
        out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
      }
    }
    return out;
  }

  /** Asserts that every key of {@code expected} was counted exactly 1, 2, ..., n. */
  static void assertExact(Map<String, List<Long>> counts, Map<String, Long> expected) {
    assertThat(counts.keySet()).isEqualTo(expected.keySet());
    expected.forEach(
        (key, n) ->
            assertThat(counts.get(key))
                .as("counts of key %s", key)
                .isEqualTo(LongStream.rangeClosed(1, n).boxed().toList()));
  }
}
