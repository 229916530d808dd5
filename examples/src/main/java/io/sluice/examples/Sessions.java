package io.sluice.examples;

import io.sluice.engine.KV;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.state.State;
import io.sluice.engine.state.StateSpec;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.sinks.JdbcSink;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The sessions pipeline: clicks keyed by user go through {@code mapWithState}, whose state per user
 * is the open session; a user without a click for the timeout has the session closed by the timeout
 * call, which emits it; the closed sessions go to a PostgreSQL table through the exactly-once
 * {@link JdbcSink}. Sessions are measured in batch time: a click belongs to the batch that read it,
 * so the timeout counts batches without a click of the user, whatever the clicks' own times.
 */
final class Sessions {

  /** The name of the state operator, under which its state lives in the checkpoint. */
  static final String OPERATOR = "sessions";

  /**
   * A click as the state operator sees it.
   *
   * @param page the page
   * @param clickMs when the user clicked
   * @param batchMs the time of the batch that read the click
   */
  record Arrival(String page, long clickMs, long batchMs) {}

  /**
   * The open session of a user, the operator's state. Entry and exit pages follow the click times,
   * so the order in which a batch hands a user's clicks over does not matter.
   */
  record Open(
      long clicks,
      String entryPage,
      String exitPage,
      long firstClickMs,
      long lastClickMs,
      long firstBatchMs,
      long lastBatchMs) {

    static Open of(Arrival a) {
      return new Open(1, a.page(), a.page(), a.clickMs(), a.clickMs(), a.batchMs(), a.batchMs());
    }

    Open plus(Arrival a) {
      boolean first = a.clickMs() < firstClickMs;
      boolean last = a.clickMs() > lastClickMs;
      return new Open(
          clicks + 1,
          first ? a.page() : entryPage,
          last ? a.page() : exitPage,
          Math.min(firstClickMs, a.clickMs()),
          Math.max(lastClickMs, a.clickMs()),
          Math.min(firstBatchMs, a.batchMs()),
          Math.max(lastBatchMs, a.batchMs()));
    }

    Session closedAt(String user, long batchMs) {
      return new Session(
          user,
          clicks,
          entryPage,
          exitPage,
          firstClickMs,
          lastClickMs,
          firstBatchMs,
          lastBatchMs,
          batchMs);
    }
  }

  private Sessions() {}

  /**
   * The sessions closed in each batch: every click extends its user's open session (or opens one);
   * in the first batch at least {@code timeout} after a user's last click that reads no click of
   * the user, the session is closed and emitted, stamped with that batch's time.
   */
  static DStream<Session> closed(
      DStream<ConsumerRecord<String, String>> records, Duration timeout) {
    PairDStream<String, Arrival> clicks =
        PairDStream.of(
            records.transform((rdd, time) -> rdd.map(r -> arrival(r, time.toEpochMilli()))));
    DStream<KV<String, Open>> ended =
        clicks.mapWithState(StateSpec.function(Sessions::track).timeout(timeout)).name(OPERATOR);
    return ended.transform(
        (rdd, time) -> rdd.map(kv -> kv.value().closedAt(kv.key(), time.toEpochMilli())));
  }

  /** A click record, keyed by user, stamped with the time of the batch that read it. */
  static KV<String, Arrival> arrival(ConsumerRecord<String, String> record, long batchMs) {
    Click c = Click.parse(record.value());
    return KV.of(c.user(), new Arrival(c.page(), c.timeMs(), batchMs));
  }

  /**
   * The mapping function: a click updates the user's open session and emits nothing; the timeout
   * call emits the session, which the engine then removes.
   */
  static KV<String, Open> track(String user, Optional<Arrival> click, State<Open> session) {
    if (session.isTimingOut()) {
      return KV.of(user, session.get());
    }
    Arrival a = click.orElseThrow();
    session.update(session.getOption().map(s -> s.plus(a)).orElseGet(() -> Open.of(a)));
    return null;
  }

  /**
   * Inserts each batch's closed sessions into {@code table}, in the transaction that commits the
   * batch's offsets. A plain INSERT: a session written twice would break the primary key.
   */
  static JdbcSink<Session> insertInto(String table, DataSource dataSource, JdbcOffsetStore store) {
    OrdersPipeline.checkTable(table);
    return JdbcSink.<Session>builder()
        .dataSource(dataSource)
        .sql(
            "INSERT INTO "
                + table
                + " (user_id, clicks, entry_page, exit_page, first_click_ms, last_click_ms,"
                + " first_batch_ms, last_batch_ms, closed_batch_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .binder(
            (stmt, s) -> {
              stmt.setString(1, s.user());
              stmt.setLong(2, s.clicks());
              stmt.setString(3, s.entryPage());
              stmt.setString(4, s.exitPage());
              stmt.setLong(5, s.firstClickMs());
              stmt.setLong(6, s.lastClickMs());
              stmt.setLong(7, s.firstBatchMs());
              stmt.setLong(8, s.lastBatchMs());
              stmt.setLong(9, s.closedBatchMs());
            })
        .offsetStore(store)
        .name(table)
        .build();
  }

  /** Drops and creates the sessions table. */
  static void recreateTable(DataSource dataSource, String table) throws SQLException {
    OrdersPipeline.dropTable(dataSource, table);
    OrdersPipeline.execute(
        dataSource,
        "CREATE TABLE "
            + OrdersPipeline.checkTable(table)
            + " (user_id TEXT NOT NULL, clicks BIGINT NOT NULL, entry_page TEXT NOT NULL,"
            + " exit_page TEXT NOT NULL, first_click_ms BIGINT NOT NULL,"
            + " last_click_ms BIGINT NOT NULL, first_batch_ms BIGINT NOT NULL,"
            + " last_batch_ms BIGINT NOT NULL, closed_batch_ms BIGINT NOT NULL,"
            + " PRIMARY KEY (user_id, first_batch_ms))");
  }

  /** Every session of {@code table}, by user and first batch. */
  static List<Session> read(DataSource dataSource, String table) throws SQLException {
    List<Session> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT user_id, clicks, entry_page, exit_page, first_click_ms, last_click_ms,"
                    + " first_batch_ms, last_batch_ms, closed_batch_ms FROM "
                    + OrdersPipeline.checkTable(table)
                    + " ORDER BY user_id, first_batch_ms")) {
      while (rs.next()) {
        out.add(
            new Session(
                rs.getString(1),
                rs.getLong(2),
                rs.getString(3),
                rs.getString(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getLong(7),
                rs.getLong(8),
                rs.getLong(9)));
      }
    }
    return out;
  }

  /** How many sessions {@code table} holds. */
  static long count(DataSource dataSource, String table) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + OrdersPipeline.checkTable(table))) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
