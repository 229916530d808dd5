package io.sluice.it.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.StreamingContext;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The pipeline {@link FileStreamKillTest} runs in a child JVM and kills: {@code
 * ctx.textFileStream(dir)}, named {@code files}, written line by line to PostgreSQL through the
 * exactly-once {@link JdbcSink}, whose {@link JdbcOffsetStore} commits the stream's file numbers in
 * the same transaction as the rows; the context requires exactly-once.
 *
 * <p>Arguments are {@code --name=value}: {@code dir}, {@code checkpointDir}, {@code appName},
 * {@code jdbcUrl}, {@code jdbcUser}, {@code jdbcPassword}, {@code table} (columns {@code line TEXT,
 * batch_id BIGINT, run BIGINT}), {@code batchIntervalMs} (default 200). Exit codes: 0 when the
 * context stopped by itself, 1 when {@code start()} or a batch failed, 2 on bad arguments. Prints
 * {@link ChaosPipeline#STARTED} and one line per batch event, like {@link ChaosPipeline}.
 */
public final class FileStreamPipeline {

  private FileStreamPipeline() {}

  /** Runs the pipeline until it fails or is killed. */
  public static void main(String[] argv) {
    Map<String, String> a = PipelineArgs.parse(argv);
    for (String required :
        List.of("dir", "checkpointDir", "appName", "jdbcUrl", "jdbcUser", "table")) {
      if (!a.containsKey(required)) {
        System.err.println("bad arguments: --" + required + " is required");
        System.exit(2);
      }
    }
    int code = run(a);
    System.out.flush();
    // Non-daemon client threads (Hikari) must not keep a failed pipeline alive.
    System.exit(code);
  }

  private static int run(Map<String, String> a) {
    PrintStream out = System.out;
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(a.get("jdbcUrl"));
    config.setUsername(a.get("jdbcUser"));
    config.setPassword(a.getOrDefault("jdbcPassword", ""));
    config.setMaximumPoolSize(4);
    config.setPoolName("file-stream-pipeline");
    try (HikariDataSource pool = new HikariDataSource(config);
        JdbcOffsetStore store = OffsetStores.jdbc(pool)) {
      StreamingContext ctx =
          StreamingContext.builder()
              .appName(a.get("appName"))
              .batchInterval(
                  Duration.ofMillis(Long.parseLong(a.getOrDefault("batchIntervalMs", "200"))))
              .parallelism(3)
              .checkpointDir(Path.of(a.get("checkpointDir")))
              .exactlyOnce(true)
              .build();
      ctx.addStreamingListener(new ChaosPipeline.BatchPrinter(out));
      long run = ProcessHandle.current().pid();
      JdbcSink<Row> sink =
          JdbcSink.<Row>builder()
              .dataSource(pool)
              .sql("INSERT INTO " + a.get("table") + " (line, batch_id, run) VALUES (?, ?, ?)")
              .binder(
                  (ps, row) -> {
                    ps.setString(1, row.line());
                    ps.setLong(2, row.batchId());
                    ps.setLong(3, run);
                  })
              .offsetStore(store)
              .name("file-lines")
              .build();
      ctx.textFileStream(Path.of(a.get("dir")))
          .name("files")
          .writeTo(new Stamped<>(sink, Row::new));
      try {
        ctx.start();
        out.println(ChaosPipeline.STARTED + " pid=" + run);
        out.flush();
        ctx.awaitTermination();
        out.println(ChaosPipeline.STOPPED);
        return 0;
      } catch (RuntimeException | InterruptedException e) {
        out.println("FILE_PIPELINE_FAILED " + e);
        e.printStackTrace(out);
        return 1;
      }
    }
  }

  /** One output row: a line and the batch that wrote it. */
  record Row(String line, long batchId) {}
}
