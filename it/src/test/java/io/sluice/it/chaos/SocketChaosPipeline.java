package io.sluice.it.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.receiver.SocketOptions;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The pipeline {@link SocketKillRestartTest} runs in a child JVM and kills: the acknowledged socket
 * source ({@code socketTextStream(127.0.0.1, port, acknowledged)}) with the receiver write-ahead
 * log and {@code exactlyOnce(true)}, into the exactly-once {@link JdbcSink}, whose {@link
 * JdbcOffsetStore} on the same database commits the stream's block numbers with the rows. Each line
 * {@code line-<n>} becomes a row {@code (n, batch_time, run)}: the batch's time in milliseconds
 * (the same when a batch is replayed) and this JVM's pid.
 *
 * <p>Arguments are {@code --name=value}: {@code port}, {@code checkpointDir}, {@code appName},
 * {@code jdbcUrl}, {@code jdbcUser}, {@code jdbcPassword}, {@code table}, and optionally {@code
 * batchIntervalMs} (200), {@code blockIntervalMs} (50), {@code maxBlockLines} (200). Prints {@link
 * ChaosPipeline#STARTED} once started and one line per batch event (see {@link
 * ChaosPipeline.BatchPrinter}). Exit codes: 1 when {@code start()} or a batch failed, 2 on bad
 * arguments; it never stops by itself otherwise.
 */
public final class SocketChaosPipeline {

  private SocketChaosPipeline() {}

  /** Runs the pipeline until it fails or is killed. */
  public static void main(String[] argv) throws Exception {
    Map<String, String> a = PipelineArgs.parse(argv);
    int code = run(a);
    System.out.flush();
    // Hikari's threads must not keep a failed pipeline alive.
    System.exit(code);
  }

  private static int run(Map<String, String> a) throws InterruptedException {
    PrintStream out = System.out;
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(a.get("appName"))
            .batchInterval(
                Duration.ofMillis(Long.parseLong(a.getOrDefault("batchIntervalMs", "200"))))
            .blockInterval(
                Duration.ofMillis(Long.parseLong(a.getOrDefault("blockIntervalMs", "50"))))
            .parallelism(3)
            .checkpointDir(Path.of(a.get("checkpointDir")))
            .receiverWriteAheadLog(true)
            .exactlyOnce(true)
            .build();
    ctx.addStreamingListener(new ChaosPipeline.BatchPrinter(out));

    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(a.get("jdbcUrl"));
    config.setUsername(a.get("jdbcUser"));
    config.setPassword(a.getOrDefault("jdbcPassword", ""));
    config.setMaximumPoolSize(3);
    config.setPoolName("socket-chaos-pipeline");
    long run = ProcessHandle.current().pid();
    try (HikariDataSource pool = new HikariDataSource(config);
        JdbcOffsetStore store = OffsetStores.jdbc(pool)) {
      SocketOptions options =
          SocketOptions.builder()
              .acknowledged(true)
              .maxBlockLines(Integer.parseInt(a.getOrDefault("maxBlockLines", "200")))
              .build();
      DStream<String> lines =
          ctx.socketTextStream("127.0.0.1", Integer.parseInt(a.get("port")), options);
      DStream<Row> rows =
          lines.transform(
              (rdd, time) -> {
                long batchTime = time.toEpochMilli();
                return rdd.map(line -> new Row(Row.number(line), batchTime));
              });
      rows.writeTo(
          JdbcSink.<Row>builder()
              .dataSource(pool)
              .sql("INSERT INTO " + a.get("table") + " (n, batch_time, run) VALUES (?, ?, ?)")
              .binder(
                  (ps, row) -> {
                    ps.setLong(1, row.n());
                    ps.setLong(2, row.batchTime());
                    ps.setLong(3, run);
                  })
              .offsetStore(store)
              .name("socket-chaos")
              .build());
      try {
        ctx.start();
        out.println(ChaosPipeline.STARTED + " pid=" + run);
        out.flush();
        ctx.awaitTermination();
        out.println(ChaosPipeline.STOPPED);
        return 0;
      } catch (RuntimeException e) {
        out.println("CHAOS_PIPELINE_FAILED " + e);
        e.printStackTrace(out);
        return 1;
      }
    }
  }

  /** One received line: its number and the time of the batch that writes it. */
  record Row(long n, long batchTime) {
    /** The number of {@code line-<n>}. */
    static long number(String line) {
      if (!line.startsWith("line-")) {
        throw new IllegalArgumentException("not a numbered line: '" + line + "'");
      }
      return Long.parseLong(line.substring(5));
    }
  }
}
