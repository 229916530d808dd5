package io.sluice.status;

import static io.sluice.status.StatusTestSupport.get;
import static io.sluice.status.StatusTestSupport.records;
import static io.sluice.status.StatusTestSupport.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON API and the Prometheus endpoint of a running direct stream on a real broker, with the
 * file offset store (so nothing reaches the Kafka group): every value matches what a {@link
 * StreamingListener} saw, the store holds, and the broker's end offsets say.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class StatusEndpointsTest {

  private static final Duration SECOND = Duration.ofSeconds(1);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void jsonAndPrometheusShowBatchesLagAndCommittedOffsetsAsTheListenerAndBrokerSeeThem(
      EmbeddedKafka kafka) throws Exception {
    String topic = StatusTestSupport.topic("status-endpoints");
    String group = "g-" + topic;
    kafka.createTopic(topic, 3);
    kafka.produce(records(topic, 0, 30));
    kafka.produce(records(topic, 1, 40));
    kafka.produce(records(topic, 2, 50));
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("status-endpoints")
            .batchInterval(SECOND)
            .parallelism(2)
            .clock(clock)
            .statusServer(0)
            .build();
    List<BatchInfo> completed = new CopyOnWriteArrayList<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.add(batch);
          }
        });
    try (OffsetStore store = OffsetStores.file(dir.resolve("offsets"))) {
      KafkaDirect.<String, String>createDirectStream(
              ctx,
              ConsumerStrategies.subscribe(List.of(topic), kafka.consumerConfig(group)),
              DirectStreamOptions.builder()
                  .name("orders")
                  .startingOffsets(StartingOffsets.earliest())
                  .offsetStore(store)
                  .maxRatePerPartition(10)
                  .build())
          .foreachBatch((rdd, batch) -> rdd.count());
      URI base = SluiceStatus.uri(ctx).orElseThrow();
      assertThat(base.getHost()).isEqualTo("127.0.0.1");
      assertThat(base.getPort()).isPositive();
      ctx.start();
      for (int n = 1; n <= 3; n++) {
        clock.advance(SECOND);
        int expected = n;
        await().atMost(Duration.ofSeconds(30)).until(() -> completed.size() == expected);
      }

      // /api/v1/batches: the listener's view, newest first
      JsonNode batches = json(get(base.resolve("/api/v1/batches")));
      assertThat(batches).hasSize(3);
      for (int i = 0; i < 3; i++) {
        BatchInfo seen = completed.get(2 - i);
        JsonNode b = batches.get(i);
        assertThat(b.get("batchId").asLong()).isEqualTo(seen.batchId());
        assertThat(b.get("batchTime").asText()).isEqualTo(seen.batchTime().toString());
        assertThat(b.get("state").asText()).isEqualTo("completed");
        assertThat(b.get("records").asLong()).isEqualTo(seen.numRecords()).isEqualTo(30);
        assertThat(b.get("inputRecords").get("orders").asLong()).isEqualTo(30);
        assertThat(b.get("schedulingDelayMs").asLong())
            .isEqualTo(seen.schedulingDelay().orElseThrow().toMillis());
        assertThat(b.get("processingTimeMs").asLong())
            .isEqualTo(seen.processingTime().orElseThrow().toMillis());
        assertThat(b.get("totalDelayMs").asLong())
            .isEqualTo(seen.totalDelay().orElseThrow().toMillis());
        assertThat(b.get("failure").isNull()).isTrue();
      }

      // /api/v1/streams: per-partition committed offsets (the store's) and lag (the broker's)
      Map<TopicPartition, Long> stored =
          store.committed(
              group,
              List.of(
                  new TopicPartition(topic, 0),
                  new TopicPartition(topic, 1),
                  new TopicPartition(topic, 2)));
      assertThat(stored)
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(
                  new TopicPartition(topic, 0), 30L,
                  new TopicPartition(topic, 1), 30L,
                  new TopicPartition(topic, 2), 30L));
      Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
      JsonNode streams = json(get(base.resolve("/api/v1/streams")));
      assertThat(streams).hasSize(1);
      JsonNode orders = streams.get(0);
      assertThat(orders.get("name").asText()).isEqualTo("orders");
      assertThat(orders.get("lastCommittedBatchId").asLong())
          .isEqualTo(store.lastBatchId(group).orElseThrow())
          .isEqualTo(completed.get(2).batchId());
      assertThat(orders.get("batches")).hasSize(3);
      assertThat(orders.get("batches").get(2).get("records").asLong()).isEqualTo(30);
      assertThat(orders.get("batches").get(2).get("inputRate").asDouble()).isEqualTo(30.0);
      JsonNode partitions = orders.get("partitions");
      assertThat(partitions).hasSize(3);
      for (int p = 0; p < 3; p++) {
        TopicPartition tp = new TopicPartition(topic, p);
        JsonNode part = partitions.get(p);
        assertThat(part.get("topic").asText()).isEqualTo(topic);
        assertThat(part.get("partition").asInt()).isEqualTo(p);
        assertThat(part.get("committedOffset").asLong()).isEqualTo(stored.get(tp));
        assertThat(part.get("lag").asLong())
            .isEqualTo(ends.get(tp) - stored.get(tp))
            .isEqualTo(p * 10L);
      }
      // the file store holds the offsets; the Kafka group never saw a commit
      assertThat(kafka.committedOffsets(group)).isEmpty();

      // /api/v1/app and /api/v1/status
      JsonNode app = json(get(base.resolve("/api/v1/app")));
      assertThat(app.get("app").asText()).isEqualTo("status-endpoints");
      assertThat(app.get("state").asText()).isEqualTo("ACTIVE");
      assertThat(app.get("batchIntervalMs").asLong()).isEqualTo(1000);
      assertThat(app.get("refreshMs").asLong()).isEqualTo(1000);
      assertThat(app.get("batchesCompleted").asLong()).isEqualTo(3);
      assertThat(app.get("batchesFailed").asLong()).isZero();
      JsonNode status = json(get(base.resolve("/api/v1/status?limit=2")));
      assertThat(status.get("batches")).hasSize(2);
      assertThat(status.get("streams").get(0).get("partitions")).hasSize(3);
      // a direct stream alone: no receivers, no state operators
      assertThat(status.get("receivers").isArray()).isTrue();
      assertThat(status.get("receivers")).isEmpty();
      assertThat(status.get("stateOperators").isArray()).isTrue();
      assertThat(status.get("stateOperators")).isEmpty();

      // /metrics: the same values, tagged app, stream, topic, partition
      HttpResponse<String> metrics = get(base.resolve("/metrics"));
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.headers().firstValue("Content-Type").orElseThrow())
          .startsWith("text/plain; version=0.0.4");
      String scrape = metrics.body();
      for (int p = 0; p < 3; p++) {
        TopicPartition tp = new TopicPartition(topic, p);
        String[] labels = {
          "app", "status-endpoints", "stream", "orders", "topic", topic, "partition", "" + p
        };
        assertThat(sample(scrape, "sluice_kafka_partition_lag", labels))
            .isEqualTo((double) (ends.get(tp) - stored.get(tp)));
        assertThat(sample(scrape, "sluice_kafka_partition_committed", labels))
            .isEqualTo((double) stored.get(tp));
        assertThat(sample(scrape, "sluice_kafka_partition_records_sum", labels)).isEqualTo(30.0);
      }
      long records = completed.stream().mapToLong(BatchInfo::numRecords).sum();
      assertThat(sample(scrape, "sluice_batches_completed_total", "app", "status-endpoints"))
          .isEqualTo(3.0);
      assertThat(sample(scrape, "sluice_batch_records_sum", "app", "status-endpoints"))
          .isEqualTo((double) records);
      assertThat(sample(scrape, "sluice_batch_records_count", "app", "status-endpoints"))
          .isEqualTo(3.0);
      assertThat(
              sample(
                  scrape, "sluice_batch_processing_time_seconds_count", "app", "status-endpoints"))
          .isEqualTo(3.0);
      assertThat(
              sample(
                  scrape,
                  "sluice_kafka_planning_time_seconds_count",
                  "app",
                  "status-endpoints",
                  "stream",
                  "orders"))
          .isGreaterThanOrEqualTo(3.0);
      // the engine's meters reach the context's registry as well
      assertThat(ctx.meterRegistry().get("sluice.batches.completed").counter().count())
          .isEqualTo(3.0);
    } finally {
      ctx.stop(false);
      SluiceStatus.close(ctx);
    }
    assertThat(SluiceStatus.uri(ctx)).isEmpty();
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .isEqualTo("application/json");
    return JSON.readTree(response.body());
  }
}
