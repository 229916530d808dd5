package com.example.revenue;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A user's exactly-once Kafka to PostgreSQL pipeline, as the README shows it: orders {@code
 * "product,cents"} from a topic, revenue per product added to a table with the batch's offsets in
 * the same transaction. Runs until the offset store holds {@code records} consumed records, then
 * stops gracefully and prints {@code DONE}.
 *
 * <p>Arguments: bootstrap servers, topic, group, JDBC URL, user, password, table, checkpoint
 * directory, records.
 */
public final class RevenueEtl {

  private RevenueEtl() {}

  /** Runs the pipeline; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    String bootstrapServers = args[0];
    String topic = args[1];
    String group = args[2];
    String table = args[6];
    Path checkpointDir = Path.of(args[7]);
    long records = Long.parseLong(args[8]);

    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setUrl(args[3]);
    dataSource.setUser(args[4]);
    dataSource.setPassword(args[5]);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table
              + " (product TEXT PRIMARY KEY, cents BIGINT NOT NULL)");
    }

    StreamingContext ctx =
        StreamingContext.builder()
            .appName(group)
            .batchInterval(Duration.ofMillis(200))
            .parallelism(2)
            .checkpointDir(checkpointDir)
            .exactlyOnce(true)
            .build();
    JdbcOffsetStore store = OffsetStores.jdbc(dataSource);

    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(
                List.of(topic),
                Map.of(
                    "bootstrap.servers", bootstrapServers,
                    "group.id", group,
                    "key.deserializer", StringDeserializer.class,
                    "value.deserializer", StringDeserializer.class,
                    "isolation.level", "read_committed")),
            DirectStreamOptions.builder().offsetStore(store).maxRatePerPartition(1_000).build())
        .map(ConsumerRecord::value)
        .map(v -> v.split(",", 2))
        .mapToPair(f -> KV.of(f[0], Long.parseLong(f[1])))
        .reduceByKey(Long::sum)
        .writeTo(
            JdbcSink.<KV<String, Long>>builder()
                .dataSource(dataSource)
                .sql(
                    "INSERT INTO "
                        + table
                        + " (product, cents) VALUES (?, ?) ON CONFLICT (product) DO UPDATE SET"
                        + " cents = "
                        + table
                        + ".cents + EXCLUDED.cents")
                .binder(
                    (stmt, kv) -> {
                      stmt.setString(1, kv.key());
                      stmt.setLong(2, kv.value());
                    })
                .offsetStore(store)
                .build());

    ctx.start();
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (consumed(store, group) < records) {
      if (Instant.now().isAfter(deadline) || ctx.state() == StreamingContext.State.STOPPED) {
        System.out.println("consumed " + consumed(store, group) + " of " + records);
        ctx.stop(false);
        System.exit(1);
      }
      Thread.sleep(100);
    }
    ctx.stop(true);
    ctx.awaitTermination();
    System.out.println("DONE " + consumed(store, group));
    store.close();
  }

  /** Records the store says the group has consumed: every topic here starts at offset 0. */
  private static long consumed(JdbcOffsetStore store, String group) {
    return store.committed(group).values().stream().mapToLong(Long::longValue).sum();
  }
}
