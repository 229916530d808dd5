package io.sluice.examples;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import io.sluice.sinks.JdbcSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** Re-runs the orders aggregation over a batch range saved in the offset store's history. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Replay: runs the orders pipeline live for a while (revenue per product per batch into a table, offsets",
      "and their history in the JDBC offset store), then re-runs the same aggregation over a saved range of",
      "batches, read back from the store's history, into a separate table. The replay is bounded and stops by",
      "itself; its totals must equal the live run's output for exactly those batches."
    })
public final class ReplayCommand implements Callable<Integer> {

  /**
   * One product's revenue in one batch of the live run.
   *
   * @param batchTimeMs the batch time, epoch milliseconds
   * @param product the product
   * @param cents revenue in the batch
   */
  record BatchRevenue(long batchTimeMs, String product, long cents) {}

  @ParentCommand private Examples parent;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--live-duration",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long the live run generates orders (default: ${DEFAULT-VALUE}).")
  private Duration liveDuration;

  @Option(
      names = "--rate",
      defaultValue = "2000",
      description = "Orders per second in the live run (default: ${DEFAULT-VALUE}).")
  private double rate;

  @Option(
      names = "--batch-interval",
      defaultValue = "500ms",
      converter = DurationConverter.class,
      description = "Batch interval (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--from-batch",
      description =
          "First batch to replay (default: a quarter into the live run's batches with data).")
  private Long fromBatch;

  @Option(
      names = "--to-batch",
      description = "Last batch to replay, inclusive (default: three quarters in).")
  private Long toBatch;

  @Option(
      names = "--topic",
      defaultValue = "orders",
      description = "Orders topic (default: ${DEFAULT-VALUE}).")
  private String topic;

  @Option(
      names = "--group",
      description = "Consumer group of the live run (default: orders-history-<run id>).")
  private String group;

  @Option(
      names = "--table-prefix",
      defaultValue = "",
      description =
          "Prefix of the tables revenue_batches and revenue_replay, which are recreated (default: none).")
  private String tablePrefix;

  @Option(
      names = "--replay-max-rate-per-partition",
      defaultValue = "1000",
      description =
          "Records per partition per second in the replay, to show it in several batches (default: ${DEFAULT-VALUE}).")
  private long replayMaxRate;

  @Option(
      names = "--replay-timeout",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description =
          "How long the bounded replay may take before it counts as failed (default: ${DEFAULT-VALUE}).")
  private Duration replayTimeout;

  /** Used by picocli. */
  public ReplayCommand() {}

  @Override
  public Integer call() throws Exception {
    PrintStream out = parent.out();
    String runId = Long.toString(System.currentTimeMillis(), 36);
    String liveGroup = group != null ? group : "orders-history-" + runId;
    String replayGroup = liveGroup + "-replay";
    String batchesTable = OrdersPipeline.checkTable(tablePrefix + "revenue_batches");
    String replayTable = OrdersPipeline.checkTable(tablePrefix + "revenue_replay");
    Check.banner(
        out,
        "Sluice replay of saved batches",
        "live run   orders -> revenue per product per batch -> '"
            + batchesTable
            + "', group '"
            + liveGroup
            + "', "
            + Check.format(liveDuration),
        "replay     batches [from, to] from the JDBC offset store's history -> StartingOffsets.bounded(ranges)",
        "           -> same aggregation -> '"
            + replayTable
            + "' (exactly-once, group '"
            + replayGroup
            + "'), stops by itself",
        "verify     replay totals == the live run's output for exactly those batches");
    try (Servers servers = new Servers(serverOptions, out)) {
      String bootstrap = servers.bootstrapServers();
      DataSource ds = servers.dataSource();
      JdbcOffsetStore store = OffsetStores.jdbc(ds);
      OrdersRun.requireNewGroup(store, replayGroup);
      OrdersPipeline.dropTable(ds, batchesTable);
      OrdersPipeline.execute(
          ds,
          "CREATE TABLE "
              + batchesTable
              + " (batch_time_ms BIGINT NOT NULL, product TEXT NOT NULL, cents BIGINT NOT NULL,"
              + " PRIMARY KEY (batch_time_ms, product))");
      OrdersPipeline.dropTable(ds, replayTable);
      OrdersPipeline.createRevenueTable(ds, replayTable);

      // 1. The live run, recording every batch's revenue under its batch time.
      OrdersRun.Settings live =
          new OrdersRun.Settings(
              "orders-history",
              topic,
              topic + "-dlq",
              liveGroup,
              batchInterval,
              4,
              20_000,
              rate,
              1,
              liveDuration,
              Duration.ofSeconds(60),
              11,
              null);
      OrdersRun.run(
          live,
          servers,
          store,
          out,
          revenue ->
              revenue
                  .transform(
                      (rdd, time) ->
                          rdd.map(
                              kv -> new BatchRevenue(time.toEpochMilli(), kv.key(), kv.value())))
                  .writeTo(
                      JdbcSink.<BatchRevenue>builder()
                          .dataSource(ds)
                          .sql(
                              "INSERT INTO "
                                  + batchesTable
                                  + " (batch_time_ms, product, cents) VALUES (?, ?, ?)")
                          .binder(
                              (stmt, r) -> {
                                stmt.setLong(1, r.batchTimeMs());
                                stmt.setString(2, r.product());
                                stmt.setLong(3, r.cents());
                              })
                          .offsetStore(store)
                          .name(batchesTable)
                          .build()));

      // 2. The range to replay, from the store's history.
      List<BatchCommit> history = new ArrayList<>(store.history(liveGroup, Integer.MAX_VALUE));
      Collections.reverse(history);
      List<BatchCommit> withData =
          history.stream().filter(c -> c.ranges().stream().anyMatch(r -> r.count() > 0)).toList();
      if (withData.isEmpty()) {
        return Check.verdict(
            out, false, "the live run committed no batch with data; nothing to replay");
      }
      long from = fromBatch != null ? fromBatch : withData.get(withData.size() / 4).batchId();
      long to =
          toBatch != null
              ? toBatch
              : withData.get(Math.max(0, withData.size() * 3 / 4 - 1)).batchId();
      List<BatchCommit> chosen =
          history.stream().filter(c -> c.batchId() >= from && c.batchId() <= to).toList();
      if (chosen.isEmpty() || from > to) {
        return Check.verdict(
            out,
            false,
            "no saved batches in ["
                + from
                + ", "
                + to
                + "]; history holds "
                + history.get(0).batchId()
                + ".."
                + history.get(history.size() - 1).batchId());
      }
      List<OffsetRange> ranges = span(chosen);
      out.printf(
          "%nhistory of group '%s': %d batches; replaying batches %d..%d (%d batches)%n",
          liveGroup, history.size(), from, to, chosen.size());
      out.println(
          "   batch " + from + " started at " + OffsetStores.rangesOfBatch(store, liveGroup, from));
      out.println("   bounded ranges: " + ranges);

      // 3. The bounded replay.
      Path checkpointDir = Check.tempDir("sluice-orders-replay-");
      String replayDlq = topic + "-replay-dlq";
      servers.createTopic(replayDlq, 1);
      StreamingContext ctx =
          StreamingContext.builder()
              .appName("orders-replay")
              .batchInterval(batchInterval)
              .parallelism(4)
              .checkpointDir(checkpointDir)
              .exactlyOnce(true)
              .build();
      long t0 = System.nanoTime();
      boolean stopped;
      Progress progress = new Progress("orders-replay", out, () -> endsOf(ranges));
      try {
        DStream<ConsumerRecord<String, Order>> orders =
            progress.track(
                OrdersPipeline.orders(
                    ctx,
                    bootstrap,
                    topic,
                    replayGroup,
                    replayDlq,
                    StartingOffsets.bounded(ranges),
                    store,
                    replayMaxRate));
        OrdersPipeline.revenue(orders).writeTo(OrdersPipeline.upsertInto(replayTable, ds, store));
        ctx.addStreamingListener(progress);
        ctx.start();
        stopped = ctx.awaitTermination(replayTimeout);
      } finally {
        ctx.stop(false);
        Check.deleteTree(checkpointDir);
      }
      if (!stopped) {
        return Check.verdict(
            out, false, "the bounded replay did not stop by itself within " + replayTimeout);
      }
      out.printf(
          "replay stopped by itself after %d batches, %,d offsets, %.1f s%n",
          progress.batches(), progress.records(), (System.nanoTime() - t0) / 1e9);

      // 4. Compare with what the live run wrote for those batches.
      Map<String, Long> original =
          new TreeMap<>(
              OrdersPipeline.query(
                  ds,
                  "SELECT product, SUM(cents) FROM "
                      + batchesTable
                      + " WHERE batch_time_ms BETWEEN "
                      + chosen.get(0).batchTime().toEpochMilli()
                      + " AND "
                      + chosen.get(chosen.size() - 1).batchTime().toEpochMilli()
                      + " GROUP BY product"));
      Map<String, Long> replayed = OrdersPipeline.readRevenue(ds, replayTable);
      Check.printComparison(out, "original", original, "replay", replayed);
      boolean pass = Check.sameAmounts(original, replayed) && !original.isEmpty();
      return Check.verdict(
          out,
          pass,
          String.format(
              "replay of batches %d..%d: %,d cents in '%s' %s %,d cents"
                  + " the live run wrote for those batches (%d products)",
              from,
              to,
              Check.sum(replayed),
              replayTable,
              pass ? "==" : "!=",
              Check.sum(original),
              original.size()));
    }
  }

  /** Per partition, from the first range's start to the last range's end over {@code batches}. */
  static List<OffsetRange> span(List<BatchCommit> batches) {
    Map<TopicPartition, long[]> span =
        new TreeMap<>(
            (a, b) ->
                a.topic().equals(b.topic())
                    ? Integer.compare(a.partition(), b.partition())
                    : a.topic().compareTo(b.topic()));
    for (BatchCommit c : batches) {
      for (OffsetRange r : c.ranges()) {
        span.merge(
            r.topicPartition(),
            new long[] {r.fromOffset(), r.untilOffset()},
            (x, y) -> new long[] {Math.min(x[0], y[0]), Math.max(x[1], y[1])});
      }
    }
    List<OffsetRange> out = new ArrayList<>();
    span.forEach((tp, fu) -> out.add(OffsetRange.of(tp, fu[0], fu[1])));
    return out;
  }

  private static Map<TopicPartition, Long> endsOf(List<OffsetRange> ranges) {
    Map<TopicPartition, Long> m =
        new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
    ranges.forEach(r -> m.put(r.topicPartition(), r.untilOffset()));
    return m;
  }
}
