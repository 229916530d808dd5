package io.sluice.sinks.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.rdd.RDD;
import io.sluice.sinks.SinkException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The JDBC sink's COPY mode for PostgreSQL: the batch's records stream through pgjdbc's {@code
 * CopyManager} into a temporary staging table as CSV, then the sink's SQL moves them into place,
 * all inside the caller's transaction. Job thread only. The PostgreSQL driver is an optional
 * dependency: this class is loaded only when a sink is built with {@code copyVia}.
 */
final class PgCopy {

  private PgCopy() {}

  /**
   * Fails at start, with a clear message, unless the database is PostgreSQL reached through pgjdbc.
   */
  static void requirePostgres(String sink, DataSource dataSource) {
    try {
      Class.forName("org.postgresql.PGConnection");
    } catch (ClassNotFoundException e) {
      throw new SinkException(
          sink
              + ": copyVia needs the PostgreSQL JDBC driver (org.postgresql:postgresql)"
              + " on the class path");
    }
    try (Connection c = dataSource.getConnection()) {
      String product = c.getMetaData().getDatabaseProductName();
      if (!c.isWrapperFor(PGConnection.class)) {
        throw new SinkException(
            sink + ": copyVia works with PostgreSQL only, the database is " + product);
      }
    } catch (SQLException e) {
      throw new SinkException(
          sink + ": cannot check the database for copyVia: " + e.getMessage(), e);
    }
  }

  /**
   * Copies the batch into the staging table, then runs {@code applySql}; returns the records
   * copied. The caller owns the transaction on {@code c} and rolls it back when this throws.
   */
  static <T> long write(
      Connection c,
      RDD<T> rdd,
      JdbcSinkImpl.Copy<T> copy,
      String applySql,
      int chunkSize,
      int queuedChunks,
      String sink,
      Batch batch)
      throws Exception {
    try (Statement st = c.createStatement()) {
      st.execute(
          "CREATE TEMP TABLE IF NOT EXISTS "
              + copy.stagingTable()
              + " ("
              + copy.columns()
              + ") ON COMMIT DELETE ROWS");
    }
    CopyIn in =
        c.unwrap(PGConnection.class)
            .getCopyAPI()
            .copyIn("COPY " + copy.stagingTable() + " FROM STDIN (FORMAT csv)");
    long[] rows = {0};
    try {
      rdd.consumePartitions(
          chunkSize,
          queuedChunks,
          (partition, chunk) -> {
            byte[] csv = csv(chunk, copy, sink, batch, partition);
            in.writeToCopy(csv, 0, csv.length);
            rows[0] += chunk.size();
          });
      in.endCopy();
    } finally {
      if (in.isActive()) {
        in.cancelCopy();
      }
    }
    try (Statement st = c.createStatement()) {
      st.execute(applySql);
    }
    return rows[0];
  }

  /**
   * One CSV line per record; every non-null value quoted, so empty strings, commas, newlines and
   * {@code \.} survive.
   */
  private static <T> byte[] csv(
      List<T> chunk, JdbcSinkImpl.Copy<T> copy, String sink, Batch batch, int partition) {
    StringBuilder out = new StringBuilder(chunk.size() * 32);
    for (T record : chunk) {
      List<?> values;
      try {
        values = copy.row().values(record);
      } catch (Exception e) {
        throw new SinkException(
            sink
                + ": the copy row function failed on a record of partition "
                + partition
                + " of batch "
                + batch.id()
                + ": "
                + e,
            e);
      }
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        Object v = values.get(i);
        if (v != null) {
          out.append('"').append(String.valueOf(v).replace("\"", "\"\"")).append('"');
        }
      }
      out.append('\n');
    }
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }
}
