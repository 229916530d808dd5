package io.sluice.examples;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StartingOffsets;
import io.sluice.sinks.JdbcSink;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The orders pipeline shared by the {@code demo} and {@code replay} commands: a direct stream of
 * JSON orders (malformed ones go to the dead-letter topic), valid orders with a positive amount,
 * revenue per product per batch, and the JDBC tables it is written to.
 */
public final class OrdersPipeline {

  private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private OrdersPipeline() {}

  /**
   * The direct stream of orders from {@code topic}, read under {@code read_committed} for consumer
   * group {@code group}; records whose value is not a valid order go to {@code deadLetterTopic}.
   */
  public static DStream<ConsumerRecord<String, Order>> orders(
      StreamingContext ctx,
      String bootstrapServers,
      String topic,
      String group,
      String deadLetterTopic,
      StartingOffsets start,
      OffsetStore store,
      long maxRatePerPartition) {
    Map<String, Object> params =
        Map.of(
            "bootstrap.servers",
            bootstrapServers,
            "group.id",
            group,
            "key.deserializer",
            StringDeserializer.class,
            "value.deserializer",
            OrderDeserializer.class, // throws on malformed JSON
            "isolation.level",
            "read_committed");
    return KafkaDirect.createDirectStream(
        ctx,
        ConsumerStrategies.<String, Order>subscribe(List.of(topic), params),
        DirectStreamOptions.builder()
            .startingOffsets(start)
            .offsetStore(store)
            .maxRatePerPartition(maxRatePerPartition)
            .onBadRecord(ErrorPolicy.deadLetter(deadLetterTopic))
            .build());
  }

  /** Revenue per product in each batch: valid orders with cents &gt; 0, summed by product. */
  public static PairDStream<String, Long> revenue(DStream<ConsumerRecord<String, Order>> orders) {
    return orders
        .map(ConsumerRecord::value)
        .filter(o -> o.cents() > 0)
        .mapToPair(o -> KV.of(o.product(), o.cents()))
        .reduceByKey(Long::sum);
  }

  /**
   * Adds each batch's revenue to {@code table}, exactly once: the rows and the batch's offsets
   * commit in one transaction, and only a batch beginning at the stored offsets is ever replayed.
   */
  public static JdbcSink<KV<String, Long>> upsertInto(
      String table, DataSource dataSource, JdbcOffsetStore store) {
    checkTable(table);
    return JdbcSink.<KV<String, Long>>builder()
        .dataSource(dataSource)
        .sql(
            "INSERT INTO "
                + table
                + " (product, cents) VALUES (?, ?) "
                + "ON CONFLICT (product) DO UPDATE SET cents = "
                + table
                + ".cents + EXCLUDED.cents")
        .binder(
            (stmt, kv) -> {
              stmt.setString(1, kv.key());
              stmt.setLong(2, kv.value());
            })
        .offsetStore(store)
        .name(table)
        .build();
  }

  /** Creates {@code table (product text primary key, cents bigint)} unless it exists. */
  public static void createRevenueTable(DataSource dataSource, String table) throws SQLException {
    execute(
        dataSource,
        "CREATE TABLE IF NOT EXISTS "
            + checkTable(table)
            + " (product TEXT PRIMARY KEY, cents BIGINT NOT NULL)");
  }

  /** Drops {@code table} if it exists. */
  public static void dropTable(DataSource dataSource, String table) throws SQLException {
    execute(dataSource, "DROP TABLE IF EXISTS " + checkTable(table));
  }

  /** {@code product -> cents} of a revenue table, sorted by product. */
  public static Map<String, Long> readRevenue(DataSource dataSource, String table)
      throws SQLException {
    return query(dataSource, "SELECT product, cents FROM " + checkTable(table));
  }

  /** Runs a query returning {@code (text, bigint)} rows as a sorted map. */
  static Map<String, Long> query(DataSource dataSource, String sql) throws SQLException {
    Map<String, Long> out = new TreeMap<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getLong(2));
      }
    }
    return out;
  }

  static void execute(DataSource dataSource, String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static String checkTable(String table) {
    if (table == null || !TABLE.matcher(table).matches()) {
      throw new IllegalArgumentException(
          "table must be a plain SQL identifier, was '" + table + "'");
    }
    return table;
  }
}
