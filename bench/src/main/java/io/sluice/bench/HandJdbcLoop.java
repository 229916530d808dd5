package io.sluice.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The hand-written exactly-once Kafka → PostgreSQL loop, the method the {@code JdbcSink} automates:
 * one consumer and one connection on one thread; each record is transformed into the same row the
 * Sluice contender writes, with the same SQL, and every {@code txnRecords} rows the consumed
 * positions are upserted into an offsets table and the database transaction commits, rows and
 * offsets together. Rows go either as JDBC batches of {@code batchSize} or, in COPY mode, as CSV
 * chunks of {@code batchSize} rows through pgjdbc's {@code CopyManager} into a temporary staging
 * table that the apply SQL ({@code INSERT ... SELECT}) moves into place before the commit.
 */
final class HandJdbcLoop {

  /** The hand-written store's offsets table; one row per group and partition. */
  static final String OFFSETS_DDL =
      "CREATE TABLE IF NOT EXISTS bench_hand_offsets (group_id VARCHAR(200) NOT NULL,"
          + " topic VARCHAR(200) NOT NULL, kafka_partition INT NOT NULL, next_offset BIGINT NOT"
          + " NULL, PRIMARY KEY (group_id, topic, kafka_partition))";

  private static final String UPSERT_OFFSET =
      "INSERT INTO bench_hand_offsets (group_id, topic, kafka_partition, next_offset)"
          + " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic, kafka_partition)"
          + " DO UPDATE SET next_offset = EXCLUDED.next_offset";

  /**
   * What to run.
   *
   * @param consumerConfig consumer settings with String deserializers
   * @param until read each partition from its beginning up to (excluding) this offset
   * @param url JDBC URL (with the same parameters as the Sluice contender's)
   * @param insertSql the row SQL with three parameters (partition, offset, value), JDBC mode
   * @param stageColumns the staging table's columns, COPY mode; null for JDBC mode
   * @param applySql moves the staged rows into place, COPY mode
   * @param group the consumer group whose offsets the transactions commit
   * @param txnRecords rows per database transaction
   * @param batchSize rows per {@code executeBatch}, or per COPY chunk
   */
  record Settings(
      Map<String, Object> consumerConfig,
      Map<TopicPartition, Long> until,
      String url,
      String user,
      String password,
      String insertSql,
      String stageColumns,
      String applySql,
      String group,
      long txnRecords,
      int batchSize) {}

  /** Rows written, transactions committed, and seconds from the clients' creation to the end. */
  record Result(long rows, long transactions, double seconds) {
    double rowsPerTransaction() {
      return transactions == 0 ? 0 : (double) rows / transactions;
    }
  }

  /** Where the rows of the open transaction go. */
  private interface RowWriter extends AutoCloseable {
    void add(int partition, long offset, String value) throws SQLException;

    /** Sends what is buffered; the rows are then part of the transaction. */
    void endOfTransaction() throws SQLException;

    @Override
    void close() throws SQLException;
  }

  private HandJdbcLoop() {}

  /** Runs the loop to the end of {@code until}; throws if the database refuses anything. */
  static Result run(Settings s) throws SQLException, IOException {
    long t0 = System.nanoTime();
    long rows = 0;
    long transactions = 0;
    Map<TopicPartition, Long> next = new HashMap<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(s.consumerConfig());
        Connection c = DriverManager.getConnection(s.url(), s.user(), s.password())) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute(OFFSETS_DDL);
      }
      c.commit();
      consumer.assign(s.until().keySet());
      consumer.seekToBeginning(s.until().keySet());
      Set<TopicPartition> open = new HashSet<>(s.until().keySet());
      long inTxn = 0;
      try (RowWriter w = s.stageColumns() == null ? new Batches(c, s) : new Copy(c, s);
          PreparedStatement offsets = c.prepareStatement(UPSERT_OFFSET)) {
        while (!open.isEmpty()) {
          ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
          for (TopicPartition tp : polled.partitions()) {
            long end = s.until().get(tp);
            for (ConsumerRecord<String, String> r : polled.records(tp)) {
              if (r.offset() >= end) {
                break;
              }
              w.add(r.partition(), r.offset(), KafkaToKafkaBench.transform(r.value()));
              next.put(tp, r.offset() + 1);
              rows++;
              if (++inTxn == s.txnRecords()) {
                commit(c, w, offsets, s, next);
                transactions++;
                inTxn = 0;
              }
            }
            if (next.getOrDefault(tp, 0L) >= end && open.remove(tp)) {
              consumer.pause(List.of(tp));
            }
          }
        }
        if (inTxn > 0) {
          commit(c, w, offsets, s, next);
          transactions++;
        }
      }
    }
    return new Result(rows, transactions, Passes.secondsSince(t0));
  }

  private static void commit(
      Connection c, RowWriter w, PreparedStatement ps, Settings s, Map<TopicPartition, Long> next)
      throws SQLException {
    w.endOfTransaction();
    for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
      ps.setString(1, s.group());
      ps.setString(2, e.getKey().topic());
      ps.setInt(3, e.getKey().partition());
      ps.setLong(4, e.getValue());
      ps.addBatch();
    }
    ps.executeBatch();
    c.commit();
  }

  /** JDBC batches of {@code batchSize} rows of the insert SQL. */
  private static final class Batches implements RowWriter {
    private final PreparedStatement ps;
    private final int batchSize;
    private int pending;

    Batches(Connection c, Settings s) throws SQLException {
      this.ps = c.prepareStatement(s.insertSql());
      this.batchSize = s.batchSize();
    }

    @Override
    public void add(int partition, long offset, String value) throws SQLException {
      ps.setInt(1, partition);
      ps.setLong(2, offset);
      ps.setString(3, value);
      ps.addBatch();
      if (++pending == batchSize) {
        ps.executeBatch();
        pending = 0;
      }
    }

    @Override
    public void endOfTransaction() throws SQLException {
      if (pending > 0) {
        ps.executeBatch();
        pending = 0;
      }
    }

    @Override
    public void close() throws SQLException {
      ps.close();
    }
  }

  /**
   * CSV chunks of {@code batchSize} rows (every value quoted, as the sink's COPY mode writes them)
   * into the staging table, then the apply SQL.
   */
  private static final class Copy implements RowWriter {
    private final Connection c;
    private final Settings s;
    private final StringBuilder csv = new StringBuilder();
    private CopyIn in;
    private int pending;

    Copy(Connection c, Settings s) throws SQLException {
      this.c = c;
      this.s = s;
      try (Statement st = c.createStatement()) {
        st.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_hand_stage ("
                + s.stageColumns()
                + ") ON COMMIT DELETE ROWS");
      }
    }

    @Override
    public void add(int partition, long offset, String value) throws SQLException {
      if (in == null) {
        in =
            c.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyIn("COPY bench_hand_stage FROM STDIN (FORMAT csv)");
      }
      csv.append('"').append(partition).append("\",\"").append(offset).append("\",\"");
      csv.append(value.replace("\"", "\"\"")).append("\"\n");
      if (++pending == s.batchSize()) {
        flushChunk();
      }
    }

    private void flushChunk() throws SQLException {
      byte[] bytes = csv.toString().getBytes(StandardCharsets.UTF_8);
      in.writeToCopy(bytes, 0, bytes.length);
      csv.setLength(0);
      pending = 0;
    }

    @Override
    public void endOfTransaction() throws SQLException {
      if (in == null) {
        return;
      }
      if (pending > 0) {
        flushChunk();
      }
      in.endCopy();
      in = null;
      try (Statement st = c.createStatement()) {
        st.execute(s.applySql());
      }
    }

    @Override
    public void close() throws SQLException {
      if (in != null && in.isActive()) {
        in.cancelCopy();
      }
    }
  }
}
