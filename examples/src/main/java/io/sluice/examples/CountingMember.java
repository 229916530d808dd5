package io.sluice.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.Batch;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.StateSpec;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One process of a stateful group-mode application, started in a child JVM by tests and benches: a
 * group-mode direct stream on {@code input} (consumer group {@code app}) keyed by the records'
 * Kafka keys, a {@code mapWithState} running count per key, and an exactly-once {@link JdbcSink}
 * inserting one row {@code (k, n)} per record into {@code table}: the key and its count after the
 * record. The sink commits the batch's offsets to a {@link JdbcOffsetStore} on the same database
 * (the one the stream reads its starting offsets from) and the state's changes to {@code
 * sluice_state}, all in the batch's transaction; when a partition moves to another process, its
 * counts move with it. Every key's rows are therefore exactly {@code 1, 2, ..., n} however
 * partitions move.
 *
 * <p>Prints one line per event on stdout, in the format of {@link ScaleOutMember} (so {@link
 * MemberProcess} reads both): {@code STARTED <pid>}, {@code BATCH <batchId> <records>
 * <completedEpochMillis> <partition,...>} (the input partitions the batch's plan covered) and
 * {@code FAILED <batchId> <cause>}, then {@code STOPPED}. Logs go to stderr, among them the
 * engine's {@code state operator '...': restored <N> keys of input partition <tp> from ... in <M>
 * ms} on every restore. A line {@code stop} on stdin stops the context gracefully (the running
 * batch finishes and commits); otherwise it runs until killed.
 *
 * <p>The table must exist: see {@link #DDL}.
 *
 * <p>Arguments: {@code bootstrapServers input jdbcUrl user password table app checkpointDir
 * batchIntervalMillis}.
 */
public final class CountingMember {

  /** The output table's DDL; {@code %s} is its name. */
  public static final String DDL =
      "CREATE TABLE IF NOT EXISTS %s (k VARCHAR(255) NOT NULL, n BIGINT NOT NULL)";

  private CountingMember() {}

  /** Runs the member until stopped through stdin or killed. */
  public static void main(String[] args) throws Exception {
    if (args.length != 9) {
      throw new IllegalArgumentException(
          "usage: CountingMember bootstrapServers input jdbcUrl user password table app"
              + " checkpointDir batchIntervalMillis; got "
              + args.length
              + " arguments");
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    String bootstrap = args[0];
    String input = args[1];
    String table = args[5];
    String app = args[6];
    Path checkpoint = Path.of(args[7]);
    Duration interval = Duration.ofMillis(Long.parseLong(args[8]));
    try (HikariDataSource pool = pool(args[2], args[3], args[4]);
        JdbcOffsetStore store = OffsetStores.jdbc(pool)) {
      StreamingContext ctx =
          StreamingContext.builder()
              .appName(app)
              .batchInterval(interval)
              .parallelism(2)
              .checkpointDir(checkpoint)
              .exactlyOnce(true)
              .build();
      // Batch id -> the partitions its plan covered; filled when the batch's first output runs,
      // read by the listener when the batch completes.
      Map<Long, String> partitions = new ConcurrentHashMap<>();
      ctx.addStreamingListener(listener(out, partitions));
      var records =
          KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(input), ScaleOutMember.consumerParams(bootstrap, app)),
              DirectStreamOptions.builder().groupMembership(true).offsetStore(store).build());
      // Reads only the plan, no records: an output registered first so it runs first. (A transform
      // would hide the input's partitioning from the state operator.)
      records.writeTo(new PlanRecorder(partitions));
      records
          .mapToPair((ConsumerRecord<String, String> r) -> KV.of(r.key(), 1L))
          .mapWithState(
              StateSpec.<String, Long, Long, KV<String, Long>>function(
                  (key, one, state) -> {
                    long n = state.getOption().orElse(0L) + one.orElse(0L);
                    state.update(n);
                    return KV.of(key, n);
                  }))
          .name("count")
          .writeTo(
              JdbcSink.<KV<String, Long>>builder()
                  .dataSource(pool)
                  .sql("INSERT INTO " + table + " (k, n) VALUES (?, ?)")
                  .binder(
                      (st, kv) -> {
                        st.setString(1, kv.key());
                        st.setLong(2, kv.value());
                      })
                  .offsetStore(store)
                  .name("counts")
                  .build());
      ctx.start();
      out.println("STARTED " + ProcessHandle.current().pid());
      stopOnStdin(ctx);
      ctx.awaitTermination();
    }
    out.println("STOPPED");
  }

  /**
   * Records the input partitions of each batch's plan for the {@code BATCH} line. Writes nothing
   * outside this process, so a replayed batch changes nothing: idempotent.
   */
  private static final class PlanRecorder implements BatchOutput<ConsumerRecord<String, String>> {

    private final Map<Long, String> partitions;

    PlanRecorder(Map<Long, String> partitions) {
      this.partitions = partitions;
    }

    @Override
    public void write(RDD<ConsumerRecord<String, String>> rdd, Batch batch) {
      partitions.put(
          batch.id(),
          ((HasOffsetRanges) rdd)
              .offsetRanges().stream()
                  .map(r -> String.valueOf(r.partition()))
                  .collect(Collectors.joining(",")));
    }

    @Override
    public DeliveryGuarantee guarantee() {
      return DeliveryGuarantee.IDEMPOTENT;
    }

    @Override
    public String describe() {
      return "plan";
    }
  }

  private static StreamingListener listener(PrintStream out, Map<Long, String> partitions) {
    return new StreamingListener() {
      @Override
      public void onBatchCompleted(BatchInfo batch) {
        String parts = partitions.remove(batch.batchId());
        out.println(
            "BATCH "
                + batch.batchId()
                + " "
                + batch.numRecords()
                + " "
                + System.currentTimeMillis()
                + " "
                + (parts == null || parts.isEmpty() ? "-" : parts));
      }

      @Override
      public void onBatchFailed(BatchInfo batch, Throwable cause) {
        partitions.remove(batch.batchId());
        out.println("FAILED " + batch.batchId() + " " + cause);
      }
    };
  }

  private static HikariDataSource pool(String url, String user, String password) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(4);
    config.setPoolName("counting-member");
    return new HikariDataSource(config);
  }

  /** Stops {@code ctx} gracefully on a line {@code stop} on stdin, from a daemon thread. */
  private static void stopOnStdin(StreamingContext ctx) {
    Thread stopper =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  if (line.trim().equals("stop")) {
                    ctx.stop(true);
                    return;
                  }
                }
              } catch (java.io.IOException e) {
                // stdin gone: the parent ended; keep running until killed
              }
            },
            "counting-member-stdin");
    stopper.setDaemon(true);
    stopper.setUncaughtExceptionHandler((t, e) -> e.printStackTrace());
    stopper.start();
  }
}
