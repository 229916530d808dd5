package io.sluice.offsets.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;

/**
 * The JDBC store; see {@link JdbcOffsetStore}. Thread-safe: each call borrows its own connection.
 */
public final class JdbcOffsetStoreImpl extends AbstractOffsetStore implements JdbcOffsetStore {

  private static final String UNIQUE_VIOLATION = "23505";

  private final DataSource dataSource;
  private final String groupsTable;
  private final String offsetsTable;
  private final String historyTable;
  private final String schema;
  private final String tablePrefix;
  private final int historyRetention;
  private final CommitHook hook;

  /**
   * Creates the store and its tables if absent.
   *
   * @throws OffsetStoreException when the database cannot be reached or the tables not created
   */
  public JdbcOffsetStoreImpl(
      DataSource dataSource,
      String schema,
      String tablePrefix,
      int historyRetention,
      Clock clock,
      CommitHook hook) {
    super(clock);
    this.dataSource = dataSource;
    this.schema = schema;
    this.tablePrefix = tablePrefix;
    String qualifier = schema == null ? "" : schema + ".";
    this.groupsTable = qualifier + tablePrefix + "offset_groups";
    this.offsetsTable = qualifier + tablePrefix + "offsets";
    this.historyTable = qualifier + tablePrefix + "offset_history";
    this.historyRetention = historyRetention;
    this.hook = hook;
    createTables();
  }

  /** The DDL for the given schema (or null) and table prefix. */
  public static String ddl(String schema, String tablePrefix) {
    String qualifier = schema == null ? "" : schema + ".";
    return DDL.replace("sluice_offset", qualifier + tablePrefix + "offset");
  }

  @Override
  public String ddl() {
    return ddl(schema, tablePrefix);
  }

  @Override
  public String describe() {
    return "jdbc(" + historyTable.replace("offset_history", "offset*") + ")";
  }

  /**
   * What PostgreSQL reports when a concurrent transaction created the same table, schema or type
   * first ({@code IF NOT EXISTS} does not cover a concurrent creation): a unique violation on its
   * catalog, a duplicate table, schema or type. Once that transaction committed, they exist.
   */
  private static final Set<String> CREATED_CONCURRENTLY =
      Set.of("23505", "42P07", "42P06", "42710");

  private void createTables() {
    for (int attempt = 1; ; attempt++) {
      try {
        createTablesOnce();
        return;
      } catch (SQLException e) {
        if (attempt < 3 && CREATED_CONCURRENTLY.contains(e.getSQLState())) {
          continue; // another process created them at the same moment: they exist now
        }
        throw new OffsetStoreException(
            describe() + ": cannot create the offset tables: " + e.getMessage(), e);
      }
    }
  }

  private void createTablesOnce() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      try {
        if (schema != null) {
          st.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
        }
        for (String ddl : ddl().split(";")) {
          if (!ddl.isBlank()) {
            st.execute(ddl.strip());
          }
        }
        if (!c.getAutoCommit()) {
          c.commit();
        }
      } catch (SQLException e) {
        if (!c.getAutoCommit()) {
          c.rollback();
        }
        throw e;
      }
    }
  }

  // ---- reads

  @Override
  public Map<TopicPartition, Long> committed(String group) {
    checkGroup(group);
    ensureOpen();
    try (Connection c = connection()) {
      return committed(c, group);
    } catch (SQLException e) {
      throw failure("read the offsets of group '" + group + "'", e);
    }
  }

  @Override
  public Map<TopicPartition, Long> committed(Connection connection, String group) {
    checkGroup(group);
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT topic, kafka_partition, next_offset FROM "
                + offsetsTable
                + " WHERE group_id = ? ORDER BY topic, kafka_partition")) {
      ps.setString(1, group);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
        }
      }
      return result;
    } catch (SQLException e) {
      throw failure("read the offsets of group '" + group + "'", e);
    }
  }

  @Override
  public OptionalLong lastBatchId(String group) {
    checkGroup(group);
    ensureOpen();
    try (Connection c = connection()) {
      return lastBatchId(c, group);
    } catch (SQLException e) {
      throw failure("read the last batch of group '" + group + "'", e);
    }
  }

  @Override
  public OptionalLong lastBatchId(Connection connection, String group) {
    checkGroup(group);
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT last_batch_id FROM " + groupsTable + " WHERE group_id = ?")) {
      ps.setString(1, group);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getLong(1) >= 0) {
          return OptionalLong.of(rs.getLong(1));
        }
        return OptionalLong.empty();
      }
    } catch (SQLException e) {
      throw failure("read the last batch of group '" + group + "'", e);
    }
  }

  @Override
  public List<BatchCommit> history(String group, int limit) {
    checkGroup(group);
    checkLimit(limit);
    ensureOpen();
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT commit_json FROM "
                    + historyTable
                    + " WHERE group_id = ? ORDER BY batch_id DESC LIMIT ?")) {
      ps.setString(1, group);
      ps.setInt(2, limit);
      List<BatchCommit> result = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(parse(rs.getString(1)));
        }
      }
      return result;
    } catch (SQLException e) {
      throw failure("read the history of group '" + group + "'", e);
    }
  }

  @Override
  public Optional<BatchCommit> batch(String group, long batchId) {
    checkGroup(group);
    ensureOpen();
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT commit_json FROM "
                    + historyTable
                    + " WHERE group_id = ? AND batch_id = ?")) {
      ps.setString(1, group);
      ps.setLong(2, batchId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(parse(rs.getString(1))) : Optional.empty();
      }
    } catch (SQLException e) {
      throw failure("read batch " + batchId + " of group '" + group + "'", e);
    }
  }

  private BatchCommit parse(String json) {
    try {
      return CommitCodec.fromText(json, describe() + " history row");
    } catch (IllegalArgumentException e) {
      throw new OffsetStoreException(e.getMessage(), e);
    }
  }

  // ---- commits

  @Override
  protected void doCommit(BatchCommit commit, boolean fenceOffsets) {
    try (Connection c = connection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        write(c, commit, fenceOffsets);
        hook.midway(commit);
        c.commit();
      } catch (Exception e) {
        rollbackQuietly(c, e);
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (SQLException e) {
      throw failure("commit batch " + commit.batchId() + " of group '" + commit.group() + "'", e);
    } catch (Exception e) {
      throw new OffsetStoreException(
          describe()
              + ": commit of batch "
              + commit.batchId()
              + " of group '"
              + commit.group()
              + "' failed and was rolled back: "
              + e,
          e);
    }
  }

  /** Group mode's commits are fenced by their offsets under the group's row lock. */
  @Override
  protected boolean acceptsSharedCommits() {
    return true;
  }

  @Override
  public void commit(Connection txConnection, BatchCommit commit) {
    checkCommit(commit);
    try {
      if (txConnection.getAutoCommit()) {
        throw new IllegalArgumentException(
            "txConnection must have auto-commit off to join its transaction");
      }
      write(txConnection, commit, true);
    } catch (SQLException e) {
      throw failure("commit batch " + commit.batchId() + " of group '" + commit.group() + "'", e);
    }
  }

  private void write(Connection c, BatchCommit commit, boolean fenceOffsets) throws SQLException {
    long last = lockGroup(c, commit.group());
    if (fenceOffsets) {
      // Every writer of the group holds its row lock, so the offsets cannot change until we commit.
      // Offsets first: they say what moved the group (a reset, another driver), batch ids only that
      // something did.
      checkOffsets(commit, committed(c, commit.group()));
    }
    if (commit.shared()) {
      // Group mode: the processes number their batches apart; the offsets fenced the commit, and
      // the history numbers it after the group's last entry.
      commit = commit.withBatchId(Math.max(last + 1, commit.batchId()));
    } else if (last >= commit.batchId()) {
      throw new StaleBatchException(commit.group(), commit.batchId(), last);
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + groupsTable
                + " SET last_batch_id = ?, last_batch_time = ? WHERE group_id = ?")) {
      ps.setLong(1, commit.batchId());
      ps.setObject(2, commit.batchTime().atOffset(ZoneOffset.UTC));
      ps.setString(3, commit.group());
      ps.executeUpdate();
    }
    writeOffsets(c, commit);
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + historyTable
                + " (group_id, batch_id, batch_time, commit_json) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, commit.group());
      ps.setLong(2, commit.batchId());
      ps.setObject(3, commit.batchTime().atOffset(ZoneOffset.UTC));
      ps.setString(4, CommitCodec.toText(commit));
      ps.executeUpdate();
    }
    pruneHistory(c, commit.group());
  }

  /** Locks the group's row, creating it if absent, and returns its last batch id (-1 for none). */
  private long lockGroup(Connection c, String group) throws SQLException {
    for (int attempt = 0; attempt < 2; attempt++) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT last_batch_id FROM " + groupsTable + " WHERE group_id = ? FOR UPDATE")) {
        ps.setString(1, group);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return rs.getLong(1);
          }
        }
      }
      // A concurrent first commit may insert the row too: the savepoint keeps our transaction
      // usable when ours loses, and the loop then locks the winner's row.
      Savepoint sp = c.setSavepoint();
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO " + groupsTable + " (group_id, last_batch_id) VALUES (?, -1)")) {
        ps.setString(1, group);
        ps.executeUpdate();
        c.releaseSavepoint(sp);
        return -1;
      } catch (SQLException e) {
        if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
          throw e;
        }
        c.rollback(sp);
      }
    }
    throw new OffsetStoreException(describe() + ": cannot lock the row of group '" + group + "'");
  }

  private void writeOffsets(Connection c, BatchCommit commit) throws SQLException {
    try (PreparedStatement update =
            c.prepareStatement(
                "UPDATE "
                    + offsetsTable
                    + " SET next_offset = ?, batch_id = ? WHERE group_id = ? AND topic = ? AND kafka_partition = ?");
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO "
                    + offsetsTable
                    + " (group_id, topic, kafka_partition, next_offset, batch_id) VALUES (?, ?, ?, ?, ?)")) {
      for (OffsetRange r : commit.ranges()) {
        update.setLong(1, r.untilOffset());
        update.setLong(2, commit.batchId());
        update.setString(3, commit.group());
        update.setString(4, r.topic());
        update.setInt(5, r.partition());
        if (update.executeUpdate() == 0) {
          // Safe without an upsert: the group's row lock keeps other committers out.
          insert.setString(1, commit.group());
          insert.setString(2, r.topic());
          insert.setInt(3, r.partition());
          insert.setLong(4, r.untilOffset());
          insert.setLong(5, commit.batchId());
          insert.executeUpdate();
        }
      }
    }
  }

  private void pruneHistory(Connection c, String group) throws SQLException {
    long oldestKept;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT batch_id FROM "
                + historyTable
                + " WHERE group_id = ? ORDER BY batch_id DESC LIMIT 1 OFFSET ?")) {
      ps.setString(1, group);
      ps.setInt(2, historyRetention - 1);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return;
        }
        oldestKept = rs.getLong(1);
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM " + historyTable + " WHERE group_id = ? AND batch_id < ?")) {
      ps.setString(1, group);
      ps.setLong(2, oldestKept);
      ps.executeUpdate();
    }
  }

  private Connection connection() throws SQLException {
    try {
      return dataSource.getConnection();
    } catch (SQLException e) {
      throw failure("connect", e);
    }
  }

  private static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  private OffsetStoreException failure(String what, SQLException e) {
    return new OffsetStoreException(describe() + ": cannot " + what + ": " + e.getMessage(), e);
  }

  @Override
  protected void doClose() {
    // The DataSource belongs to the caller.
  }
}
