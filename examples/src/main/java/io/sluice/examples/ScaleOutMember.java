package io.sluice.examples;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.sinks.KafkaSink;
import java.io.BufferedReader;
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
 * One process of {@code ./demo scale-out}, started in a child JVM by {@link ScaleOutCommand}: a
 * group-mode direct stream on {@code input} (consumer group {@code app}) written unchanged to
 * {@code output} by the exactly-once Kafka sink, which commits the group's offsets with the
 * member's generation (KIP-447).
 *
 * <p>Prints one line per event on stdout for the parent to read: {@code STARTED <pid>}, {@code
 * BATCH <batchId> <records> <completedEpochMillis> <partition,...>} (the input partitions the batch
 * covered, i.e. the ones this process owned when it planned the batch) and {@code FAILED <batchId>
 * <cause>}. Logs go to stderr. A line {@code stop} on stdin stops the context gracefully (the
 * running batch finishes and commits); otherwise it runs until killed.
 *
 * <p>Arguments: {@code bootstrapServers input output app checkpointDir batchIntervalMillis}.
 */
public final class ScaleOutMember {

  private ScaleOutMember() {}

  /** Runs the member until stopped through stdin or killed. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    String bootstrap = args[0];
    String input = args[1];
    String output = args[2];
    String app = args[3];
    Path checkpoint = Path.of(args[4]);
    Duration interval = Duration.ofMillis(Long.parseLong(args[5]));
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(interval)
            .parallelism(2)
            .checkpointDir(checkpoint)
            .exactlyOnce(true)
            .build();
    // Batch time -> the partitions its plan covered; filled on the driver when the batch's RDD is
    // built, read by the listener when the batch completes.
    Map<Long, String> partitions = new ConcurrentHashMap<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            String parts = partitions.remove(batch.batchTime().toEpochMilli());
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
            out.println("FAILED " + batch.batchId() + " " + cause);
          }
        });
    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(
                List.of(input), consumerParams(bootstrap, app)),
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
                        // A killed member's open transaction holds its partitions' offsets until
                        // the broker aborts it: keep that short (default 60 s).
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
            "scale-out-member-stdin");
    stopper.setDaemon(true);
    stopper.setUncaughtExceptionHandler((t, e) -> e.printStackTrace());
    stopper.start();
    ctx.awaitTermination();
    out.println("STOPPED");
  }

  /**
   * Group member settings: a short session so a killed process is noticed within 6 s, and a short
   * metadata age so added partitions are noticed within 2 s.
   */
  static Map<String, Object> consumerParams(String bootstrap, String app) {
    Map<String, Object> params = new HashMap<>();
    params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    params.put(ConsumerConfig.GROUP_ID_CONFIG, app);
    params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    params.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    params.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
    params.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
    params.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 2_000);
    return params;
  }
}
