package io.sluice.status;

import static io.sluice.status.StatusTestSupport.get;
import static io.sluice.status.StatusTestSupport.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.receiver.Receiver;
import io.sluice.engine.state.State;
import io.sluice.engine.state.StateSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The receivers and state operators in the JSON API and on {@code /metrics}, for a running pipeline
 * whose receiver fails once and is restarted, and whose {@code mapWithState} holds a known number
 * of keys.
 */
class ReceiversAndStateOperatorsStatusTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String APP = "status-receivers";
  static final String ERROR = "connection lost (test): java.io.IOException: reset by peer";
  static final int KEYS = 7;

  /**
   * Stores 20 records as one block on its first start, then asks for a restart with an error; on
   * its second start stores 30 more as 3 blocks of 10. Keys {@code key-0} .. {@code key-6}.
   */
  static final class FailsOnceReceiver extends Receiver<String> {
    private final AtomicInteger starts = new AtomicInteger();

    @Override
    public void onStart() {
      int start = starts.incrementAndGet();
      Thread t =
          new Thread(
              () -> {
                if (start == 1) {
                  store(records(0, 20));
                  restart("connection lost (test)", new IOException("reset by peer"));
                } else if (start == 2) {
                  for (int from = 20; from < 50; from += 10) {
                    store(records(from, from + 10));
                  }
                }
              },
              "fails-once-" + start);
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void onStop() {}

    @Override
    public String describe() {
      return "fails-once";
    }

    private static List<String> records(int from, int until) {
      List<String> out = new ArrayList<>();
      for (int i = from; i < until; i++) {
        out.add("key-" + (i % KEYS) + ":" + i);
      }
      return out;
    }
  }

  /** Counts records per key. */
  static Long count(String key, Optional<String> value, State<Long> state) {
    long n = state.getOption().orElse(0L) + 1;
    state.update(n);
    return n;
  }

  /** The receiver stream {@code ticks} with the {@code key-counts} operator over it. */
  static void pipeline(StreamingContext ctx) {
    ctx.receiverStream(new FailsOnceReceiver())
        .name("ticks")
        .mapToPair(r -> KV.of(r.substring(0, r.indexOf(':')), r))
        .mapWithState(
            StateSpec.function(ReceiversAndStateOperatorsStatusTest::count).numPartitions(2))
        .name("key-counts")
        .foreachRDD(rdd -> rdd.count());
  }

  @Test
  void apiAndMetricsShowTheReceiversRestartAndErrorAndTheOperatorsKeyCount() throws Exception {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(APP)
            .batchInterval(Duration.ofMillis(200))
            .blockInterval(Duration.ofMillis(50))
            .parallelism(3)
            .statusServer(0)
            .build();
    pipeline(ctx);
    URI base = SluiceStatus.uri(ctx).orElseThrow();
    try {
      // before start: listed, stopped, nothing counted
      JsonNode before = json(get(base.resolve("/api/v1/status")));
      assertThat(before.get("receivers").get(0).get("state").asText()).isEqualTo("stopped");
      assertThat(before.get("receivers").get(0).get("records").asLong()).isZero();
      assertThat(before.get("stateOperators").get(0).get("keys").asLong()).isZero();

      Instant started = Instant.ofEpochMilli(System.currentTimeMillis());
      ctx.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                JsonNode s = json(get(base.resolve("/api/v1/status")));
                return s.get("receivers").get(0).get("records").asLong() == 50
                    && s.get("stateOperators").get(0).get("keys").asLong() == KEYS;
              });

      JsonNode receivers = json(get(base.resolve("/api/v1/receivers")));
      assertThat(receivers).hasSize(1);
      JsonNode r = receivers.get(0);
      assertThat(fieldNames(r))
          .containsExactly(
              "stream",
              "receiver",
              "state",
              "records",
              "recordsPerSecond",
              "blocks",
              "restarts",
              "errors",
              "lastError",
              "lastErrorTime");
      assertThat(r.get("stream").asText()).isEqualTo("ticks");
      assertThat(r.get("receiver").asText()).isEqualTo("fails-once");
      assertThat(r.get("state").asText()).isEqualTo("running");
      assertThat(r.get("records").asLong()).isEqualTo(50);
      assertThat(r.get("blocks").asLong()).isEqualTo(4);
      assertThat(r.get("restarts").asLong()).isEqualTo(1);
      assertThat(r.get("errors").asLong()).isEqualTo(1);
      assertThat(r.get("lastError").asText()).isEqualTo(ERROR);
      assertThat(Instant.parse(r.get("lastErrorTime").asText())).isBetween(started, Instant.now());
      assertThat(r.get("recordsPerSecond").isNumber()).isTrue();

      JsonNode operators = json(get(base.resolve("/api/v1/stateOperators")));
      assertThat(operators).hasSize(1);
      assertThat(operators.get(0).toString())
          .isEqualTo("{\"name\":\"key-counts\",\"partitions\":2,\"keys\":" + KEYS + "}");

      String scrape = get(base.resolve("/metrics")).body();
      String[] stream = {"app", APP, "stream", "ticks"};
      assertThat(sample(scrape, "sluice_receiver_records_total", stream)).isEqualTo(50.0);
      assertThat(sample(scrape, "sluice_receiver_blocks_total", stream)).isEqualTo(4.0);
      assertThat(sample(scrape, "sluice_receiver_restarts_total", stream)).isEqualTo(1.0);
      assertThat(sample(scrape, "sluice_receiver_errors_total", stream)).isEqualTo(1.0);
      assertThat(sample(scrape, "sluice_state_keys", "app", APP, "operator", "key-counts"))
          .isEqualTo((double) KEYS);

      // the server outlives the context: the receiver shows as stopped, its counts kept
      ctx.stop(true);
      JsonNode after = json(get(base.resolve("/api/v1/receivers"))).get(0);
      assertThat(after.get("state").asText()).isEqualTo("stopped");
      assertThat(after.get("records").asLong()).isEqualTo(50);
      assertThat(after.get("restarts").asLong()).isEqualTo(1);
    } finally {
      ctx.stop(false);
      SluiceStatus.close(ctx);
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> out = new ArrayList<>();
    node.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }
}
