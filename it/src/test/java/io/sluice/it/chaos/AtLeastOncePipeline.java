package io.sluice.it.chaos;

import io.sluice.engine.StreamingContext;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The pipeline {@link AtLeastOnceKillTest} runs in a child JVM and kills: a Kafka direct stream
 * that commits its own offsets to its consumer group (no offset store, no transactional output), so
 * a batch's commit overlaps the next batch's jobs, and an at-least-once output that inserts each
 * record as a row {@code (n, batch_id, run)} into PostgreSQL in one local transaction per batch,
 * separate from the offsets: {@code run} is this JVM's pid.
 *
 * <p>Arguments are {@code --name=value}: {@code bootstrap}, {@code inputTopic}, {@code group},
 * {@code checkpointDir}, {@code jdbcUrl}, {@code jdbcUser}, {@code jdbcPassword}, {@code table},
 * and optionally {@code batchIntervalMs} (100) and {@code maxRatePerPartition} (5000). Prints
 * {@link ChaosPipeline#STARTED} once started and one line per batch event ({@link
 * ChaosPipeline.BatchPrinter}). Exit codes: 1 when {@code start()} or a batch failed, 2 on bad
 * arguments; it never stops by itself otherwise.
 */
public final class AtLeastOncePipeline {

  private AtLeastOncePipeline() {}

  /** Runs the pipeline until it fails or is killed. */
  public static void main(String[] argv) throws Exception {
    Map<String, String> a = PipelineArgs.parse(argv);
    int code = run(a);
    System.out.flush();
    System.exit(code);
  }

  private static int run(Map<String, String> a) throws InterruptedException {
    PrintStream out = System.out;
    long pid = ProcessHandle.current().pid();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("at-least-once-kill")
            .batchInterval(
                Duration.ofMillis(Long.parseLong(a.getOrDefault("batchIntervalMs", "100"))))
            .parallelism(2)
            .checkpointDir(Path.of(a.get("checkpointDir")))
            .build();
    ctx.addStreamingListener(new ChaosPipeline.BatchPrinter(out));
    Map<String, Object> params = new HashMap<>();
    params.put("bootstrap.servers", a.get("bootstrap"));
    params.put("group.id", a.get("group"));
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", StringDeserializer.class);
    params.put("auto.offset.reset", "earliest");
    String insert = "INSERT INTO " + a.get("table") + " (n, batch_id, run) VALUES (?, ?, ?)";
    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(List.of(a.get("inputTopic")), params),
            DirectStreamOptions.builder()
                .maxRatePerPartition(Long.parseLong(a.getOrDefault("maxRatePerPartition", "5000")))
                .build())
        .map(ConsumerRecord::value)
        .foreachBatch(
            (rdd, batch) -> {
              List<String> values = rdd.collect();
              try (Connection c =
                  DriverManager.getConnection(
                      a.get("jdbcUrl"), a.get("jdbcUser"), a.getOrDefault("jdbcPassword", ""))) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement(insert)) {
                  for (String v : values) {
                    ps.setLong(1, Long.parseLong(v));
                    ps.setLong(2, batch.id());
                    ps.setLong(3, pid);
                    ps.addBatch();
                  }
                  ps.executeBatch();
                }
                c.commit();
              } catch (SQLException e) {
                throw new IllegalStateException("writing batch " + batch.id(), e);
              }
            });
    try {
      ctx.start();
      out.println(ChaosPipeline.STARTED + " pid=" + pid);
      out.flush();
      ctx.awaitTermination();
      return 0;
    } catch (RuntimeException e) {
      out.println("CHAOS_PIPELINE_FAILED " + e);
      e.printStackTrace(out);
      return 1;
    }
  }
}
