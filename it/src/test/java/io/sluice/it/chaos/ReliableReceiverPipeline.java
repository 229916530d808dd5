package io.sluice.it.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.StreamingContext;
import io.sluice.kafka.receiver.KafkaReceivers;
import io.sluice.kafka.receiver.ReliableReceiverOptions;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The pipeline {@link ReliableReceiverKillTest} runs in a child JVM and kills: the reliable Kafka
 * receiver ({@link KafkaReceivers#reliable}) of one topic, its blocks in the receiver write-ahead
 * log and its offsets in ZooKeeper ({@code /consumers/<group>/offsets/<topic>/<partition>}),
 * written record by record to PostgreSQL through the exactly-once {@link JdbcSink}, whose {@link
 * JdbcOffsetStore} commits the receiver stream's block numbers ({@code receiver:receiver-0}) in the
 * same transaction as the rows; the context requires exactly-once.
 *
 * <p>The consumer is a static member of its group ({@code group.instance.id}): a restarted run
 * takes the killed run's place at once, where a dynamic member would wait for the dead one's
 * session to time out (45 s) before the group rebalanced.
 *
 * <p>Arguments are {@code --name=value}: {@code bootstrap}, {@code topic}, {@code group}, {@code
 * zookeeper} (connect string), {@code checkpointDir}, {@code appName}, {@code jdbcUrl}, {@code
 * jdbcUser}, {@code jdbcPassword}, {@code table} (columns {@code id BIGINT, topic TEXT,
 * kafka_partition INT, kafka_offset BIGINT, batch_id BIGINT, run BIGINT}; the record's value is its
 * id), {@code batchIntervalMs} (default 200), {@code maxRate} (records per second the receiver
 * stores, default 5,000), {@code maxPollRecords} (records per poll, so per block; default 500),
 * optional {@code stopFile} (stop gracefully once it exists). Exit codes: 0 when the context
 * stopped, 1 when {@code start()} or a batch failed, 2 on bad arguments. Prints {@link
 * ChaosPipeline#STARTED} and one line per batch event, like {@link ChaosPipeline}.
 */
public final class ReliableReceiverPipeline {

  /** The receiver stream's name: the first input of the context. */
  static final String STREAM = "receiver-0";

  private ReliableReceiverPipeline() {}

  /** Runs the pipeline until it fails, stops or is killed. */
  public static void main(String[] argv) {
    Map<String, String> a = PipelineArgs.parse(argv);
    for (String required :
        List.of(
            "bootstrap",
            "topic",
            "group",
            "zookeeper",
            "checkpointDir",
            "appName",
            "jdbcUrl",
            "jdbcUser",
            "table")) {
      if (!a.containsKey(required)) {
        System.err.println("bad arguments: --" + required + " is required");
        System.exit(2);
      }
    }
    int code = run(a);
    System.out.flush();
    // Non-daemon client threads (Hikari, Curator) must not keep a failed pipeline alive.
    System.exit(code);
  }

  private static int run(Map<String, String> a) {
    PrintStream out = System.out;
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(a.get("jdbcUrl"));
    config.setUsername(a.get("jdbcUser"));
    config.setPassword(a.getOrDefault("jdbcPassword", ""));
    config.setMaximumPoolSize(4);
    config.setPoolName("reliable-receiver-pipeline");
    ScheduledExecutorService stopWatcher = null;
    try (HikariDataSource pool = new HikariDataSource(config);
        JdbcOffsetStore store = OffsetStores.jdbc(pool);
        OffsetStore zk = OffsetStores.zookeeper(a.get("zookeeper"))) {
      StreamingContext ctx =
          StreamingContext.builder()
              .appName(a.get("appName"))
              .batchInterval(
                  Duration.ofMillis(Long.parseLong(a.getOrDefault("batchIntervalMs", "200"))))
              .parallelism(3)
              .checkpointDir(Path.of(a.get("checkpointDir")))
              .receiverWriteAheadLog(true)
              .receiverMaxRate(Long.parseLong(a.getOrDefault("maxRate", "5000")))
              .exactlyOnce(true)
              .build();
      ctx.addStreamingListener(new ChaosPipeline.BatchPrinter(out));
      long run = ProcessHandle.current().pid();
      JdbcSink<Row> sink =
          JdbcSink.<Row>builder()
              .dataSource(pool)
              .sql(
                  "INSERT INTO "
                      + a.get("table")
                      + " (id, topic, kafka_partition, kafka_offset, batch_id, run)"
                      + " VALUES (?, ?, ?, ?, ?, ?)")
              .binder(
                  (ps, row) -> {
                    ps.setLong(1, row.id());
                    ps.setString(2, row.topic());
                    ps.setInt(3, row.partition());
                    ps.setLong(4, row.offset());
                    ps.setLong(5, row.batchId());
                    ps.setLong(6, run);
                  })
              .offsetStore(store)
              .name("received-records")
              .build();
      KafkaReceivers.<String, String>reliable(
              ctx,
              List.of(a.get("topic")),
              kafkaParams(a),
              ReliableReceiverOptions.builder().offsetStore(zk).build())
          .writeTo(new Stamped<>(sink, Row::of));
      try {
        ctx.start();
        out.println(ChaosPipeline.STARTED + " pid=" + run);
        out.flush();
        if (a.containsKey("stopFile")) {
          stopWatcher = ChaosPipeline.watchStopFile(ctx, Path.of(a.get("stopFile")), out);
        }
        ctx.awaitTermination();
        out.println(ChaosPipeline.STOPPED);
        return 0;
      } catch (RuntimeException | InterruptedException e) {
        out.println("RECEIVER_PIPELINE_FAILED " + e);
        e.printStackTrace(out);
        return 1;
      } finally {
        if (stopWatcher != null) {
          stopWatcher.shutdownNow();
        }
      }
    }
  }

  private static Map<String, Object> kafkaParams(Map<String, String> a) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(ConsumerConfig.GROUP_ID_CONFIG, a.get("group"));
    p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, a.get("group") + "-0");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
        Integer.parseInt(a.getOrDefault("maxPollRecords", "500")));
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
    return p;
  }

  /** One output row: a record's id and coordinates, and the batch that wrote it. */
  record Row(long id, String topic, int partition, long offset, long batchId) {
    static Row of(ConsumerRecord<String, String> r, long batchId) {
      return new Row(Long.parseLong(r.value()), r.topic(), r.partition(), r.offset(), batchId);
    }
  }
}
