package io.sluice.examples;

import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The README's demo: an exactly-once orders ETL from Kafka into PostgreSQL, checked at the end
 * against what the generator produced.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Exactly-once orders ETL: Kafka topic -> Sluice -> PostgreSQL, verified at the end.",
      "Generates JSON orders (about 1%% malformed), parses them (malformed ones go to the dead-letter topic),",
      "keeps orders with cents > 0, sums revenue per product per batch and adds it to a PostgreSQL table",
      "with the batch's offsets in the same transaction. Then checks the table against the generator."
    })
public final class DemoCommand implements Callable<Integer> {

  @ParentCommand private Examples parent;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--duration",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long the generator runs (default: ${DEFAULT-VALUE}).")
  private Duration duration;

  @Option(
      names = "--rate",
      defaultValue = "2000",
      description = "Orders per second (default: ${DEFAULT-VALUE}).")
  private double rate;

  @Option(
      names = "--malformed-percent",
      defaultValue = "1",
      description = "Share of malformed orders in percent (default: ${DEFAULT-VALUE}).")
  private double malformedPercent;

  @Option(
      names = "--batch-interval",
      defaultValue = "500ms",
      converter = DurationConverter.class,
      description = "Batch interval (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--parallelism",
      defaultValue = "4",
      description = "Task slots (default: ${DEFAULT-VALUE}).")
  private int parallelism;

  @Option(
      names = "--max-rate-per-partition",
      defaultValue = "20000",
      description = "Most records read per partition per second (default: ${DEFAULT-VALUE}).")
  private long maxRatePerPartition;

  @Option(
      names = "--topic",
      defaultValue = "orders",
      description =
          "Orders topic (default: ${DEFAULT-VALUE}); the dead-letter topic is <topic>-dlq.")
  private String topic;

  @Option(
      names = "--group",
      defaultValue = "orders-etl",
      description =
          "Consumer group, the key of the offsets in the database (default: ${DEFAULT-VALUE}).")
  private String group;

  @Option(
      names = "--table",
      defaultValue = "revenue",
      description = "Revenue table (default: ${DEFAULT-VALUE}).")
  private String table;

  @Option(
      names = "--drain-timeout",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description =
          "How long to wait for the pipeline to catch up after the generator stops (default: ${DEFAULT-VALUE}).")
  private Duration drainTimeout;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Random seed of the generator (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Option(
      names = "--status-port",
      defaultValue = "4040",
      description =
          "Port of the status page, JSON API and /metrics on 127.0.0.1 (default: ${DEFAULT-VALUE};"
              + " 0 for any free port, -1 for none).")
  private int statusPort;

  /** Used by picocli. */
  public DemoCommand() {}

  @Override
  public Integer call() throws Exception {
    PrintStream out = parent.out();
    String dlq = topic + "-dlq";
    Check.banner(
        out,
        "Sluice demo: exactly-once orders ETL, Kafka -> PostgreSQL",
        "generator  -> topic '"
            + topic
            + "' (4 partitions), "
            + (long) rate
            + " orders/s for "
            + Check.format(duration)
            + ", ~"
            + malformedPercent
            + "% malformed",
        "pipeline   direct stream (batches of "
            + batchInterval.toMillis()
            + " ms) -> parse (malformed -> '"
            + dlq
            + "')",
        "           -> filter cents > 0 -> revenue per product (reduceByKey)",
        "           -> JdbcSink upsert into '"
            + table
            + "' + offsets of group '"
            + group
            + "' in ONE transaction",
        "verify     revenue in PostgreSQL == revenue produced; dead letters == malformed orders");
    try (Servers servers = new Servers(serverOptions, out)) {
      servers.bootstrapServers();
      DataSource ds = servers.dataSource();
      OrdersPipeline.createRevenueTable(ds, table);
      Map<String, Long> before = OrdersPipeline.readRevenue(ds, table);
      JdbcOffsetStore store = OffsetStores.jdbc(ds);
      OrdersRun.Settings settings =
          new OrdersRun.Settings(
              "orders-etl",
              topic,
              dlq,
              group,
              batchInterval,
              parallelism,
              maxRatePerPartition,
              rate,
              malformedPercent,
              duration,
              drainTimeout,
              seed,
              statusPort < 0 ? null : statusPort);
      OrdersRun.Result run =
          OrdersRun.run(
              settings,
              servers,
              store,
              out,
              revenue -> revenue.writeTo(OrdersPipeline.upsertInto(table, ds, store)));
      return verify(out, servers, ds, before, run, dlq);
    }
  }

  private int verify(
      PrintStream out,
      Servers servers,
      DataSource ds,
      Map<String, Long> before,
      OrdersRun.Result run,
      String dlq)
      throws Exception {
    Map<String, Long> after = OrdersPipeline.readRevenue(ds, table);
    Map<String, Long> inDatabase = new HashMap<>();
    after.forEach((p, c) -> inDatabase.put(p, c - before.getOrDefault(p, 0L)));
    OrderGenerator.Totals produced = run.produced();
    List<ConsumerRecord<String, String>> deadLetters =
        servers.readAll(dlq, run.deadLetterStart(), false);
    Set<String> deadValues = new HashSet<>();
    deadLetters.forEach(r -> deadValues.add(r.value()));

    out.println();
    out.printf(
        "stopped after %d batches in %.1f s: %,d orders produced, %,d malformed, %,d voided (cents <= 0)%n",
        run.batches(),
        run.elapsed().toMillis() / 1000.0,
        produced.records(),
        produced.malformed(),
        produced.voided());
    Check.printComparison(out, "produced", produced.revenue(), "postgresql", inDatabase);
    boolean revenueOk = Check.sameAmounts(produced.revenue(), inDatabase);
    boolean deadOk =
        deadLetters.size() == produced.malformed() && deadValues.equals(produced.malformedValues());
    return Check.verdict(
        out,
        revenueOk && deadOk,
        String.format(
            "revenue in PostgreSQL %,d cents %s produced %,d cents (%d products); dead letters %,d %s malformed %,d",
            Check.sum(inDatabase),
            revenueOk ? "==" : "!=",
            produced.totalRevenue(),
            produced.revenue().size(),
            deadLetters.size(),
            deadOk ? "==" : "!=",
            produced.malformed()));
  }
}
