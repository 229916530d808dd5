package io.sluice.bench;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.sinks.KafkaSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One member process of {@link RebalanceBench}, run in a child JVM: a stateless group-mode direct
 * stream copied to the output topic by the exactly-once Kafka sink (KIP-447 commits with the
 * member's generation).
 *
 * <p>Prints {@code STARTED <pid>}, then {@code BATCH <batchId> <records> <completedEpochMillis>
 * <partition,...>} per completed batch (the input partitions its plan covered) and {@code FAILED
 * <batchId> <cause>}. A line {@code stop} on stdin stops it gracefully ({@code ctx.stop(true)}: the
 * running batch finishes and commits, then the member leaves the group).
 *
 * <p>Arguments: {@code bootstrapServers input output app checkpointDir batchIntervalMillis}.
 */
public final class RebalanceMember {

  private RebalanceMember() {}

  /** Runs until stopped through stdin or killed. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    String bootstrap = args[0];
    String input = args[1];
    String output = args[2];
    String app = args[3];
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofMillis(Long.parseLong(args[5])))
            .parallelism(2)
            .checkpointDir(Path.of(args[4]))
            .exactlyOnce(true)
            .build();
    Map<Long, String> partitions = new ConcurrentHashMap<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo b) {
            String parts = partitions.remove(b.batchTime().toEpochMilli());
            out.println(
                "BATCH "
                    + b.batchId()
                    + " "
                    + b.numRecords()
                    + " "
                    + System.currentTimeMillis()
                    + " "
                    + (parts == null || parts.isEmpty() ? "-" : parts));
          }

          @Override
          public void onBatchFailed(BatchInfo b, Throwable cause) {
            out.println("FAILED " + b.batchId() + " " + cause);
          }
        });
    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(List.of(input), params(bootstrap, app)),
            DirectStreamOptions.builder().groupMembership(true).build())
        .transform(
            (rdd, time) -> {
              partitions.put(
                  time.toEpochMilli(),
                  ((HasOffsetRanges) rdd)
                      .offsetRanges().stream()
                          .map(r -> String.valueOf(r.partition()))
                          .collect(Collectors.joining(",")));
              return rdd.map(ConsumerRecord::value);
            })
        .writeTo(
            KafkaSink.<String>builder()
                .producerConfig(
                    Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                        10_000))
                .keySerializer(new StringSerializer())
                .valueSerializer(new StringSerializer())
                .record(v -> new ProducerRecord<>(output, v, v))
                .name("copy")
                .exactlyOnce()
                .build());
    ctx.start();
    out.println("STARTED " + ProcessHandle.current().pid());
    Thread stdin = new Thread(() -> stopOnRequest(ctx), "rebalance-member-stdin");
    stdin.setDaemon(true);
    stdin.setUncaughtExceptionHandler((t, e) -> e.printStackTrace());
    stdin.start();
    ctx.awaitTermination();
    out.println("STOPPED");
  }

  private static void stopOnRequest(StreamingContext ctx) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.trim().equals("stop")) {
          ctx.stop(true);
          return;
        }
      }
    } catch (IOException e) {
      // stdin closed: the bench ended; run until killed
    }
  }

  private static Map<String, Object> params(String bootstrap, String app) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, app);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
    p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 2_000);
    return p;
  }
}
