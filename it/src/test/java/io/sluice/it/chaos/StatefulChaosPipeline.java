package io.sluice.it.chaos;

import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.rdd.HashPartitioner;
import io.sluice.engine.rdd.PairRDD;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.StateSpec;
import io.sluice.it.chaos.ChaosPipeline.Args;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The stateful pipelines the SIGKILL suite runs in a separate JVM, each writing exactly once to
 * PostgreSQL through a {@link JdbcSink} that commits the input's offsets to a {@link
 * JdbcOffsetStore} in the same transaction:
 *
 * <ul>
 *   <li>{@code --pipeline=updateStateByKey} and {@code --pipeline=mapWithState}: a running count of
 *       records per Kafka record key, kept in keyed state; each batch upserts every key it touched
 *       with its count after the batch ({@code count}, the state's result) and adds the batch's
 *       records of the key ({@code added}, counted without state), and counts the batches in which
 *       the count did not move by exactly the records added ({@code mismatches}, with the first
 *       such batch's time). Schema: {@link #COUNTS_DDL}.
 *   <li>{@code --pipeline=windows}: a window of {@value #WINDOW_BATCHES} batches sliding by {@value
 *       #SLIDE_BATCHES}; each window's record count, sum, minimum and maximum of the values are
 *       inserted as one row keyed by the window's time. The batches between the slides commit their
 *       offsets without the sink. The offset store keeps the history of every committed batch (its
 *       time and ranges), from which the test recomputes every window. Schema: {@link
 *       #WINDOWS_DDL}.
 * </ul>
 *
 * <p>Arguments, exit codes and printed lines are those of {@link ChaosPipeline}; the fault switches
 * are not offered.
 */
public final class StatefulChaosPipeline {

  /** Window length in batches. */
  static final int WINDOW_BATCHES = 6;

  /** Window slide in batches. */
  static final int SLIDE_BATCHES = 2;

  /** The counts table; {@code %s} is its name. */
  static final String COUNTS_DDL =
      "CREATE TABLE %s (k TEXT PRIMARY KEY, count BIGINT NOT NULL, added BIGINT NOT NULL,"
          + " batches BIGINT NOT NULL, mismatches BIGINT NOT NULL, last_batch BIGINT NOT NULL,"
          + " first_mismatch BIGINT)";

  /**
   * The windows table; {@code %s} is its name. One row per window: {@code t} the window time (epoch
   * ms), the count, sum, minimum and maximum of its values (0 when empty), and the writing JVM's
   * pid.
   */
  static final String WINDOWS_DDL =
      "CREATE TABLE %s (t BIGINT NOT NULL, count BIGINT NOT NULL, sum BIGINT NOT NULL,"
          + " min BIGINT NOT NULL, max BIGINT NOT NULL, run BIGINT NOT NULL)";

  /** Committed batches the offset store keeps in its history: all of a run's. */
  static final int HISTORY = 1_000_000;

  private static final List<String> PIPELINES =
      List.of("updateStateByKey", "mapWithState", "windows");

  private StatefulChaosPipeline() {}

  /** Runs the pipeline until it fails or is killed. */
  public static void main(String[] argv) throws Exception {
    Args args;
    try {
      args = Args.parse(argv, PIPELINES);
    } catch (IllegalArgumentException e) {
      System.err.println("bad arguments: " + e.getMessage());
      System.exit(2);
      return;
    }
    int code = run(args);
    System.out.flush();
    // Non-daemon client threads (Kafka, Hikari) must not keep a failed pipeline alive.
    System.exit(code);
  }

  private static int run(Args a) throws Exception {
    PrintStream out = System.out;
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(a.appName)
            .batchInterval(Duration.ofMillis(a.batchIntervalMs))
            .parallelism(a.parallelism)
            .checkpointDir(Path.of(a.checkpointDir))
            .build();
    ctx.addStreamingListener(new ChaosPipeline.BatchPrinter(out));
    HikariDataSource pool = ChaosPipeline.pool(a);
    JdbcOffsetStore store =
        OffsetStores.jdbcBuilder().dataSource(pool).historyRetention(HISTORY).build();

    Map<String, Object> params = new HashMap<>();
    params.put("bootstrap.servers", a.bootstrap);
    params.put("group.id", a.appName);
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", StringDeserializer.class);
    params.put("isolation.level", "read_committed");
    DStream<ConsumerRecord<String, String>> input =
        KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.subscribe(List.of(a.inputTopic), params),
            DirectStreamOptions.builder()
                .name("records")
                .maxRatePerPartition(a.maxRatePerPartition)
                .offsetStore(store)
                .build());
    if (a.pipeline.equals("windows")) {
      windows(ctx, input, a, pool, store);
    } else {
      counts(input, a, pool, store);
    }

    ScheduledExecutorService stopWatcher = null;
    try {
      ctx.start();
      out.println(ChaosPipeline.STARTED + " pid=" + ProcessHandle.current().pid());
      out.flush();
      if (a.stopFile != null) {
        stopWatcher = ChaosPipeline.watchStopFile(ctx, Path.of(a.stopFile), out);
      }
      ctx.awaitTermination();
      out.println(ChaosPipeline.STOPPED);
      return 0;
    } catch (RuntimeException e) {
      out.println("CHAOS_PIPELINE_FAILED " + e);
      e.printStackTrace(out);
      return 1;
    } finally {
      out.flush();
      if (stopWatcher != null) {
        stopWatcher.shutdownNow();
      }
      store.close();
      pool.close();
    }
  }

  // ---------------------------------------------------------------- counts

  /**
   * One key's row of a batch: its count after the batch (from the state; 0 on the rows that only
   * add) and the batch's records of the key (0 on the state's rows).
   */
  record KeyCount(String key, long count, long added) {}

  private static void counts(
      DStream<ConsumerRecord<String, String>> input,
      Args a,
      HikariDataSource pool,
      JdbcOffsetStore store) {
    PairDStream<String, Long> ones = input.mapToPair(r -> KV.of(r.key(), 1L));
    DStream<KeyCount> counts =
        switch (a.pipeline) {
          case "updateStateByKey" ->
              ones.<Long>updateStateByKey(
                      (values, state) -> Optional.of(state.orElse(0L) + values.size()))
                  .name("counts")
                  .map(kv -> new KeyCount(kv.key(), kv.value(), 0));
          case "mapWithState" ->
              ones.mapWithState(
                      StateSpec.<String, Long, Long, KeyCount>function(
                          (key, one, state) -> {
                            long count = state.getOption().orElse(0L) + one.orElseThrow();
                            state.update(count);
                            return new KeyCount(key, count, 0);
                          }))
                  .name("counts");
          default -> throw new IllegalArgumentException(a.pipeline);
        };
    DStream<KeyCount> added =
        ones.reduceByKey(Long::sum).map(kv -> new KeyCount(kv.key(), 0, kv.value()));
    // Per key and batch: the state's count after the batch (mapWithState returns one per record,
    // rising within the batch: the largest is the last) and the records the batch added.
    String sql =
        """
        INSERT INTO %1$s AS t (k, count, added, batches, mismatches, last_batch, first_mismatch)
        SELECT k, max(count), sum(added), 1, CASE WHEN max(count) <> sum(added) THEN 1 ELSE 0 END,
               max(batch_time), CASE WHEN max(count) <> sum(added) THEN max(batch_time) END
        FROM counts_stage GROUP BY k
        ON CONFLICT (k) DO UPDATE SET
          count = EXCLUDED.count,
          added = t.added + EXCLUDED.added,
          batches = t.batches + 1,
          mismatches = t.mismatches
              + CASE WHEN EXCLUDED.count <> t.count + EXCLUDED.added THEN 1 ELSE 0 END,
          last_batch = EXCLUDED.last_batch,
          first_mismatch = coalesce(t.first_mismatch,
              CASE WHEN EXCLUDED.count <> t.count + EXCLUDED.added THEN EXCLUDED.last_batch END)
        """
            .formatted(a.table);
    counts
        .union(added)
        .transform((rdd, time) -> rdd.map(kc -> KV.of(time.toEpochMilli(), kc)))
        .writeTo(
            JdbcSink.<KV<Long, KeyCount>>builder()
                .dataSource(pool)
                .copyVia(
                    "counts_stage",
                    "k text, count bigint, added bigint, batch_time bigint",
                    kv ->
                        List.of(kv.value().key(), kv.value().count(), kv.value().added(), kv.key()))
                .sql(sql)
                .offsetStore(store)
                .name("chaos-counts")
                .build());
  }

  // ---------------------------------------------------------------- windows

  /** A window's row (see {@link #WINDOWS_DDL}). */
  record Row(long t, long count, long sum, long min, long max) {}

  /** A window's aggregate of values. */
  record Stats(long count, long sum, long min, long max) {
    static final Stats EMPTY = new Stats(0, 0, Long.MAX_VALUE, Long.MIN_VALUE);

    static Stats of(long v) {
      return new Stats(1, v, v, v);
    }

    Stats plus(Stats o) {
      return new Stats(count + o.count, sum + o.sum, Math.min(min, o.min), Math.max(max, o.max));
    }
  }

  private static void windows(
      StreamingContext ctx,
      DStream<ConsumerRecord<String, String>> input,
      Args a,
      HikariDataSource pool,
      JdbcOffsetStore store) {
    Duration interval = Duration.ofMillis(a.batchIntervalMs);
    long run = ProcessHandle.current().pid();
    input
        .map(r -> Long.parseLong(r.value()))
        .window(interval.multipliedBy(WINDOW_BATCHES), interval.multipliedBy(SLIDE_BATCHES))
        .transform((rdd, time) -> windowRow(ctx, rdd, time))
        .writeTo(
            JdbcSink.<Row>builder()
                .dataSource(pool)
                .sql(
                    "INSERT INTO "
                        + a.table
                        + " (t, count, sum, min, max, run) VALUES (?, ?, ?, ?, ?, ?)")
                .binder(
                    (ps, row) -> {
                      ps.setLong(1, row.t());
                      ps.setLong(2, row.count());
                      ps.setLong(3, row.sum());
                      ps.setLong(4, row.min());
                      ps.setLong(5, row.max());
                      ps.setLong(6, run);
                    })
                .offsetStore(store)
                .name("chaos-windows")
                .build());
  }

  /** One row for the window at {@code time}: its values' stats (reduced in one partition). */
  private static RDD<Row> windowRow(StreamingContext ctx, RDD<Long> values, Instant time) {
    long t = time.toEpochMilli();
    RDD<KV<Long, Stats>> stats =
        values
            .map(v -> KV.of(t, Stats.of(v)))
            .union(ctx.parallelize(List.of(KV.of(t, Stats.EMPTY)), 1));
    return PairRDD.of(stats)
        .reduceByKey(Stats::plus, new HashPartitioner(1))
        .map(
            kv -> {
              Stats s = kv.value();
              return new Row(
                  kv.key(),
                  s.count(),
                  s.sum(),
                  s.count() == 0 ? 0 : s.min(),
                  s.count() == 0 ? 0 : s.max());
            });
  }
}
