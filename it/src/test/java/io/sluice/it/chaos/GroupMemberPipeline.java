package io.sluice.it.chaos;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.OffsetRange;
import io.sluice.sinks.KafkaSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One process of a group-mode application, run in a child JVM by {@link GroupScaleOutTest}: reads
 * {@code in} as a member of consumer group {@code app} and writes every value to {@code out}
 * through the exactly-once Kafka sink. Prints {@code PLANNED <batchTimeMillis>
 * <tp>:<from>-<until>,...} when a batch's ranges are computed and {@code COMMITTED
 * <batchTimeMillis> <epochMillis>} once the batch committed, so the test can tell which process
 * committed which range when.
 *
 * <p>Arguments: {@code bootstrapServers in out app checkpointDir}. Runs until killed.
 */
public final class GroupMemberPipeline {

  static final String STARTED = "GROUP_MEMBER_STARTED";

  private GroupMemberPipeline() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    String bootstrap = args[0];
    String in = args[1];
    String outTopic = args[2];
    String app = args[3];
    Path checkpoint = Path.of(args[4]);
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofMillis(500))
            .parallelism(2)
            .checkpointDir(checkpoint)
            .exactlyOnce(true)
            .build();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            out.println(
                "COMMITTED " + batch.batchTime().toEpochMilli() + " " + System.currentTimeMillis());
          }
        });
    Map<String, Object> params = new HashMap<>();
    params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    params.put(ConsumerConfig.GROUP_ID_CONFIG, app);
    params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    params.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    params.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
    params.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
    // Partitions added to the topic are noticed within 2 s (default: 5 min).
    params.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 2_000);
    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(java.util.List.of(in), params),
            DirectStreamOptions.builder().groupMembership(true).build())
        .transform(
            (rdd, time) -> {
              String ranges =
                  ((HasOffsetRanges) rdd)
                      .offsetRanges().stream()
                          .map(GroupMemberPipeline::range)
                          .collect(Collectors.joining(","));
              out.println("PLANNED " + time.toEpochMilli() + " " + ranges);
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
                .record(v -> new ProducerRecord<>(outTopic, v, v))
                .exactlyOnce()
                .build());
    ctx.start();
    out.println(STARTED + " pid=" + ProcessHandle.current().pid());
    ctx.awaitTermination();
  }

  private static String range(OffsetRange r) {
    return r.topic() + "/" + r.partition() + ":" + r.fromOffset() + "-" + r.untilOffset();
  }
}
