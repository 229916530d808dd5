package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.engine.Harness;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.receiver.Receiver;
import io.sluice.engine.state.State;
import io.sluice.engine.state.StateSpec;
import io.sluice.engine.status.EngineStatus;
import io.sluice.engine.status.ReceiverStatus;
import io.sluice.engine.status.ReceiverStatus.ReceiverError;
import io.sluice.engine.status.StateOperatorStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/**
 * What a status server reads of a running context: the state operators' key counts and the
 * receivers' counts, restarts and last error, with their meters.
 */
class EngineStatusTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  /** Counts records per key; a value of -1 removes the key. */
  private static Long count(String key, Optional<Long> value, State<Long> state) {
    if (value.orElse(0L) < 0) {
      state.remove();
      return 0L;
    }
    long n = state.getOption().orElse(0L) + 1;
    state.update(n);
    return n;
  }

  @Test
  void stateOperatorKeyCountFollowsEachPersistedBatch() {
    Queue<List<String>> queue = new ArrayDeque<>();
    queue.add(List.of("a", "b", "c", "a"));
    queue.add(List.of("a", "d"));
    queue.add(List.of("-b"));
    queue.add(List.of());
    try (Harness h = new Harness(2)) {
      h.ctx
          .queueCollectionStream(queue)
          .mapToPair(w -> w.startsWith("-") ? KV.of(w.substring(1), -1L) : KV.of(w, 1L))
          .mapWithState(StateSpec.function(EngineStatusTest::count).numPartitions(3))
          .name("counts")
          .foreachRDD(rdd -> rdd.count());
      EngineStatus status = StatusHook.engineStatus(EngineAccess.runtime(h.ctx));
      assertThat(status.stateOperators()).containsExactly(new StateOperatorStatus("counts", 3, 0));

      List<Long> keys = new ArrayList<>();
      List<Double> gauge = new ArrayList<>();
      for (int b = 0; b < 4; b++) {
        h.runBatches(1);
        keys.add(status.stateOperators().get(0).keys());
        gauge.add(keysGauge(h.ctx.meterRegistry(), "counts"));
      }
      assertThat(keys).containsExactly(3L, 4L, 3L, 3L);
      assertThat(gauge).containsExactly(3.0, 4.0, 3.0, 3.0);
      assertThat(status.stateOperators()).containsExactly(new StateOperatorStatus("counts", 3, 3));
      assertThat(status.receivers()).isEmpty();
    }
  }

  private static double keysGauge(MeterRegistry registry, String operator) {
    return registry
        .get("sluice.state.keys")
        .tag("app", "test")
        .tag("operator", operator)
        .gauge()
        .value();
  }

  /** Stores a block of 4 on its first start, then fails; stores 3 blocks of 2 on the second. */
  static final class FailsOnceReceiver extends Receiver<String> {
    private int starts;

    @Override
    public void onStart() {
      int start = ++starts;
      Thread t =
          new Thread(
              () -> {
                if (start == 1) {
                  store(List.of("a", "b", "c", "d"));
                  restart("connection lost (test)", new IOException("reset by peer"));
                } else if (start == 2) {
                  for (int i = 0; i < 3; i++) {
                    store(List.of("x" + i, "y" + i));
                  }
                }
              },
              "fails-once-receiver-" + start);
      t.start();
    }

    @Override
    public void onStop() {}

    @Override
    public String describe() {
      return "fails-once";
    }
  }

  @Test
  void receiverStatusCountsStoredRecordsTheRestartAndItsError() {
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("receiver-status")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .blockInterval(Duration.ofMillis(20)));
    DStream<String> lines = h.ctx.receiverStream(new FailsOnceReceiver()).name("lines");
    lines.foreachRDD(rdd -> rdd.count());
    EngineStatus status = StatusHook.engineStatus(EngineAccess.runtime(h.ctx));
    assertThat(status.receivers())
        .containsExactly(
            new ReceiverStatus(
                "lines",
                "fails-once",
                ReceiverStatus.State.STOPPED,
                0,
                0.0,
                0,
                0,
                0,
                Optional.empty()));
    h.ctx.start();
    await().atMost(WAIT).until(() -> status.receivers().get(0).records() == 10);

    ReceiverStatus r = status.receivers().get(0);
    assertThat(r.state()).isEqualTo(ReceiverStatus.State.RUNNING);
    assertThat(r.blocks()).isEqualTo(4);
    assertThat(r.restarts()).isEqualTo(1);
    assertThat(r.errors()).isEqualTo(1);
    // the manual clock stands still: the error's time is its time, and 10 records in 1 s
    assertThat(r.lastError())
        .hasValue(
            new ReceiverError(
                h.clock.now(), "connection lost (test): java.io.IOException: reset by peer"));
    assertThat(r.recordsPerSecond()).isEqualTo(10.0);
    MeterRegistry registry = h.ctx.meterRegistry();
    assertThat(counter(registry, "sluice.receiver.records")).isEqualTo(10.0);
    assertThat(counter(registry, "sluice.receiver.blocks")).isEqualTo(4.0);
    assertThat(counter(registry, "sluice.receiver.restarts")).isEqualTo(1.0);
    assertThat(counter(registry, "sluice.receiver.errors")).isEqualTo(1.0);

    h.ctx.stop(true);
    assertThat(status.receivers().get(0).state()).isEqualTo(ReceiverStatus.State.STOPPED);
    assertThat(status.receivers().get(0).records()).isEqualTo(10);
  }

  private static double counter(MeterRegistry registry, String name) {
    return registry
        .get(name)
        .tag("app", "receiver-status")
        .tag("stream", "lines")
        .functionCounter()
        .count();
  }
}
