package io.sluice.sinks;

import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.sinks.internal.JdbcSinkImpl;
import javax.sql.DataSource;

/**
 * Writes each batch's records into a relational database with the application's SQL (an insert or
 * an upsert) in ONE local transaction per batch, on the job thread. The batch's tasks compute their
 * partitions in parallel and hand their rows over in chunks of {@link Builder#batchSize(int)} (the
 * engine's {@code RDD.consumePartitions}); the job thread binds each chunk and sends it as one JDBC
 * batch, so memory is bounded by a few chunks per task slot, not by the size of a partition.
 *
 * <p>With an {@link Builder#offsetStore(JdbcOffsetStore) offset store} in the same database the
 * guarantee is {@link io.sluice.engine.DeliveryGuarantee#EXACTLY_ONCE EXACTLY_ONCE}: inside one
 * transaction the sink writes the rows, commits the batch's offsets to the store on the same
 * connection — refused, and the whole transaction rolled back, unless every range begins at the
 * group's stored next offset — and commits. Writes that add ({@code ... DO UPDATE SET n = t.n +
 * EXCLUDED.n}) are therefore applied once, with or without a shuffle before the sink, because the
 * whole batch commits as one unit. Without an offset store the guarantee is {@link
 * io.sluice.engine.DeliveryGuarantee#AT_LEAST_ONCE AT_LEAST_ONCE} (idempotent if the SQL is an
 * upsert that overwrites).
 *
 * <p>Any failure (a binder or statement error, a lost connection) rolls the transaction back and
 * fails the batch with a {@link SinkException}: neither rows nor offsets remain, and a restart
 * replays the batch. The sink is the one committer of the batch's offsets: the stream must keep its
 * offsets in the same store ({@code start()} refuses another place), and a second transactional
 * sink in the same context is refused.
 *
 * @param <T> record type
 */
public interface JdbcSink<T> extends TransactionalSink<T> {

  /** The default number of rows per JDBC {@code executeBatch}. */
  int DEFAULT_BATCH_SIZE = 1000;

  /** A new builder. */
  static <T> Builder<T> builder() {
    return new Builder<>();
  }

  /**
   * Builds a {@link JdbcSink}. Not thread-safe; {@link #build()} copies the settings.
   *
   * @param <T> record type
   */
  final class Builder<T> {
    private DataSource dataSource;
    private String jdbcUrl;
    private String user;
    private String password;
    private String sql;
    private RowBinder<T> binder;
    private JdbcOffsetStore offsetStore;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private String name = "jdbc";
    private String stagingTable;
    private String stagingColumns;
    private CopyRow<T> copyRow;

    private Builder() {}

    /**
     * The database, as a pool the application owns (not closed by the sink). Or {@link #jdbcUrl}.
     */
    public Builder<T> dataSource(DataSource dataSource) {
      this.dataSource = dataSource;
      return this;
    }

    /**
     * The database URL; the sink then owns a small HikariCP pool, opened at start, closed at stop.
     */
    public Builder<T> jdbcUrl(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /** The user for {@link #jdbcUrl(String)}. */
    public Builder<T> user(String user) {
      this.user = user;
      return this;
    }

    /** The password for {@link #jdbcUrl(String)}. */
    public Builder<T> password(String password) {
      this.password = password;
      return this;
    }

    /**
     * The statement run once per record (required), with {@code ?} parameters the binder sets; with
     * {@link #copyVia}, the statement run once per batch after the COPY.
     */
    public Builder<T> sql(String sql) {
      this.sql = sql;
      return this;
    }

    /** Sets a record's parameters (required). */
    public Builder<T> binder(RowBinder<T> binder) {
      this.binder = binder;
      return this;
    }

    /**
     * The offset store, in the same database, whose commit joins the sink's transaction. Required
     * for exactly-once.
     */
    public Builder<T> offsetStore(JdbcOffsetStore offsetStore) {
      this.offsetStore = offsetStore;
      return this;
    }

    /** Rows per {@code executeBatch} (default {@value JdbcSink#DEFAULT_BATCH_SIZE}, > 0). */
    public Builder<T> batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /**
     * PostgreSQL: writes each batch with {@code COPY} instead of JDBC batches, usually several
     * times faster for large batches. The records go, through pgjdbc's {@code CopyManager}, into
     * {@code stagingTable}, a temporary table the sink creates on its connection as {@code CREATE
     * TEMP TABLE IF NOT EXISTS <stagingTable> (<columns>) ON COMMIT DELETE ROWS} ({@code columns}
     * are column definitions, e.g. {@code "product text, cents bigint"}); {@code row} gives each
     * record's values in that order. Then {@link #sql(String)} runs once, in the same transaction,
     * and moves the rows into place, e.g. {@code INSERT INTO revenue SELECT product, sum(cents)
     * FROM revenue_stage GROUP BY product ON CONFLICT ...}. The offsets commit in that transaction
     * as in the default mode. No {@link #binder} in this mode; the PostgreSQL JDBC driver must be
     * on the class path.
     */
    public Builder<T> copyVia(String stagingTable, String columns, CopyRow<T> row) {
      this.stagingTable = stagingTable;
      this.stagingColumns = columns;
      this.copyRow = row;
      return this;
    }

    /** A name for logs, metrics and thread names (default {@code jdbc}). */
    public Builder<T> name(String name) {
      this.name = name;
      return this;
    }

    /**
     * Validates the settings and builds the sink.
     *
     * @throws IllegalArgumentException naming the first invalid setting and its value
     */
    public JdbcSink<T> build() {
      if (dataSource == null && (jdbcUrl == null || jdbcUrl.isBlank())) {
        throw new IllegalArgumentException(
            "dataSource or jdbcUrl must be set, were null and "
                + (jdbcUrl == null ? "null" : "'" + jdbcUrl + "'"));
      }
      if (dataSource != null && jdbcUrl != null) {
        throw new IllegalArgumentException(
            "set dataSource or jdbcUrl, not both; jdbcUrl was '" + jdbcUrl + "'");
      }
      if (dataSource != null && (user != null || password != null)) {
        throw new IllegalArgumentException(
            "user and password apply to jdbcUrl only, user was '" + user + "' with a dataSource");
      }
      if (sql == null || sql.isBlank()) {
        throw new IllegalArgumentException(
            "sql must be set and not blank, was " + (sql == null ? "null" : "'" + sql + "'"));
      }
      JdbcSinkImpl.Copy<T> copy = null;
      if (stagingTable != null || stagingColumns != null || copyRow != null) {
        if (stagingTable == null || !stagingTable.matches("[A-Za-z_][A-Za-z0-9_]*")) {
          throw new IllegalArgumentException(
              "copyVia's stagingTable must be a plain SQL identifier, was "
                  + (stagingTable == null ? "null" : "'" + stagingTable + "'"));
        }
        if (stagingColumns == null || stagingColumns.isBlank()) {
          throw new IllegalArgumentException(
              "copyVia's columns must be column definitions such as"
                  + " 'product text, cents bigint', was "
                  + (stagingColumns == null ? "null" : "blank"));
        }
        if (copyRow == null) {
          throw new IllegalArgumentException("copyVia's row function must be set, was null");
        }
        if (binder != null) {
          throw new IllegalArgumentException(
              "binder does not apply with copyVia: the COPY takes the"
                  + " row function's values and sql runs once per batch");
        }
        copy = new JdbcSinkImpl.Copy<>(stagingTable, stagingColumns, copyRow);
      } else if (binder == null) {
        throw new IllegalArgumentException("binder must be set, was null");
      }
      if (batchSize <= 0) {
        throw new IllegalArgumentException("batchSize must be > 0, was " + batchSize);
      }
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      return new JdbcSinkImpl<>(
          new JdbcSinkImpl.Settings<>(
              dataSource,
              jdbcUrl,
              user,
              password,
              sql,
              binder,
              offsetStore,
              batchSize,
              name,
              copy));
    }
  }
}
