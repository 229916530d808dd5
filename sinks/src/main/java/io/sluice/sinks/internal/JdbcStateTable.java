package io.sluice.sinks.internal;

import io.sluice.engine.state.StateChange;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The changelog of keyed state kept per input partition (group mode) as a table, {@code
 * sluice_state}: one row per (application, operator, input partition, key) holding the key's value
 * as of the last committed batch. A batch's changes are written in the transaction that commits its
 * rows and offsets, so a partition's state and its committed offset never disagree; a process that
 * takes the partition over reads them back.
 */
final class JdbcStateTable {

  static final String TABLE = "sluice_state";

  /**
   * What PostgreSQL reports when a concurrent transaction created the same table first: a unique
   * violation on its catalog, a duplicate table or a duplicate type.
   */
  private static final Set<String> CREATED_CONCURRENTLY = Set.of("23505", "42P07", "42710");

  private final String app;
  private volatile boolean created;

  JdbcStateTable(String app) {
    this.app = app;
  }

  /** The table's DDL for the database {@code c} connects to. */
  static String ddl(Connection c) throws SQLException {
    boolean postgres = "PostgreSQL".equalsIgnoreCase(c.getMetaData().getDatabaseProductName());
    String bytes = postgres ? "BYTEA" : "VARBINARY(1000000)";
    return "CREATE TABLE IF NOT EXISTS "
        + TABLE
        + " (app VARCHAR(255) NOT NULL, operator VARCHAR(255) NOT NULL, source VARCHAR(255) NOT"
        + " NULL, state_key "
        + bytes
        + " NOT NULL, state_value "
        + bytes
        + " NOT NULL, PRIMARY KEY (app, operator, source, state_key))";
  }

  /** Creates the table when missing, in its own transaction on {@code c}. */
  void ensureCreated(Connection c) throws SQLException {
    if (created) {
      return;
    }
    synchronized (this) {
      if (created) {
        return;
      }
      boolean autoCommit = c.getAutoCommit();
      try (Statement st = c.createStatement()) {
        c.setAutoCommit(true);
        String ddl = ddl(c);
        try {
          st.execute(ddl);
        } catch (SQLException e) {
          if (!CREATED_CONCURRENTLY.contains(e.getSQLState())) {
            throw e;
          }
          // Another process created the table at the same moment: PostgreSQL's IF NOT EXISTS
          // does not cover a concurrent CREATE, whose commit fails this one. It exists now.
          st.execute(ddl);
        }
      } finally {
        c.setAutoCommit(autoCommit);
      }
      created = true;
    }
  }

  /** Writes {@code changes} in the caller's transaction on {@code c}; returns the rows changed. */
  long write(Connection c, List<StateChange> changes) throws SQLException {
    if (changes.isEmpty()) {
      return 0;
    }
    try (PreparedStatement delete =
            c.prepareStatement(
                "DELETE FROM "
                    + TABLE
                    + " WHERE app = ? AND operator = ? AND source = ? AND state_key = ?");
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO "
                    + TABLE
                    + " (app, operator, source, state_key, state_value) VALUES (?, ?, ?, ?, ?)")) {
      int inserts = 0;
      for (StateChange change : changes) {
        delete.setString(1, app);
        delete.setString(2, change.operator());
        delete.setString(3, change.source());
        delete.setBytes(4, change.key());
        delete.addBatch();
        if (!change.removed()) {
          insert.setString(1, app);
          insert.setString(2, change.operator());
          insert.setString(3, change.source());
          insert.setBytes(4, change.key());
          insert.setBytes(5, change.value());
          insert.addBatch();
          inserts++;
        }
      }
      delete.executeBatch();
      if (inserts > 0) {
        insert.executeBatch();
      }
    }
    return changes.size();
  }

  /** Reads the committed state of one operator's input partition on {@code c}. */
  void read(Connection c, String operator, String source, BiConsumer<byte[], byte[]> entry)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT state_key, state_value FROM "
                + TABLE
                + " WHERE app = ? AND operator = ? AND source = ?")) {
      ps.setString(1, app);
      ps.setString(2, operator);
      ps.setString(3, source);
      ps.setFetchSize(10_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          entry.accept(rs.getBytes(1), rs.getBytes(2));
        }
      }
    }
  }
}
