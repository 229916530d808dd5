package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ListenerAndMetricsTest {

  @Test
  void listenerAndMetersReportEveryBatchAndOutputOperation() {
    MeterRegistry registry = new SimpleMeterRegistry();
    List<String> events = new CopyOnWriteArrayList<>();
    List<OutputOperationInfo> ops = new CopyOnWriteArrayList<>();
    try (Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("metrics")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .meterRegistry(registry))) {
      h.ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchSubmitted(BatchInfo b) {
              events.add("submitted " + b.batchId() + " " + b.numRecords());
            }

            @Override
            public void onBatchStarted(BatchInfo b) {
              events.add("started " + b.batchId());
            }

            @Override
            public void onBatchCompleted(BatchInfo b) {
              events.add("completed " + b.batchId() + " " + b.numRecords());
            }

            @Override
            public void onOutputOperationCompleted(OutputOperationInfo info) {
              ops.add(info);
            }
          });
      Queue<List<Integer>> q =
          new ConcurrentLinkedQueue<>(List.of(List.of(1, 2, 3), List.of(), List.of(4, 5)));
      var s = h.ctx.queueCollectionStream(q);
      s.foreachBatch("first", (rdd, b) -> rdd.count());
      s.map(x -> x * 2).foreachBatch("second", (rdd, b) -> rdd.collect());

      h.runBatches(3);

      assertThat(registry.get("sluice.batches.completed").tag("app", "metrics").counter().count())
          .isEqualTo(3.0);
      assertThat(registry.get("sluice.batches.failed").counter().count()).isZero();
      assertThat(registry.get("sluice.batch.records").summary().count()).isEqualTo(3);
      assertThat(registry.get("sluice.batch.records").summary().totalAmount()).isEqualTo(5.0);
      assertThat(registry.get("sluice.batch.processing.time").timer().count()).isEqualTo(3);
      assertThat(registry.get("sluice.batch.scheduling.delay").timer().count()).isEqualTo(3);
      assertThat(registry.get("sluice.batch.total.delay").timer().totalTime(TimeUnit.MILLISECONDS))
          .isZero();
      assertThat(registry.get("sluice.task.retries").counter().count()).isZero();
    }
    // The generator may submit batch n + 1 before batch n completes; per batch the order is fixed.
    assertThat(events).hasSize(9);
    assertThat(events)
        .filteredOn(e -> e.matches("\\w+ 0( .*)?"))
        .containsExactly("submitted 0 3", "started 0", "completed 0 3");
    assertThat(events)
        .filteredOn(e -> e.matches("\\w+ 1( .*)?"))
        .containsExactly("submitted 1 0", "started 1", "completed 1 0");
    assertThat(events)
        .filteredOn(e -> e.matches("\\w+ 2( .*)?"))
        .containsExactly("submitted 2 2", "started 2", "completed 2 2");
    assertThat(events)
        .filteredOn(e -> e.startsWith("completed"))
        .containsExactly("completed 0 3", "completed 1 0", "completed 2 2");
    assertThat(ops)
        .extracting(o -> o.batchId() + " " + o.name() + " " + o.id())
        .containsExactly(
            "0 first 0", "0 second 1", "1 first 0", "1 second 1", "2 first 0", "2 second 1");
    assertThat(ops).allMatch(o -> o.failureReason().isEmpty() && o.endTime().isPresent());
    assertThat(ops.get(5).batchTime()).isEqualTo(java.time.Instant.ofEpochMilli(3000));
    assertThat(Duration.between(ops.get(0).startTime(), ops.get(0).endTime().orElseThrow()))
        .isZero();
  }

  /**
   * Records batch events as "kind id" and blocks in the first one until {@link #release} is counted
   * down.
   */
  private static final class BlockedListener implements StreamingListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final CountDownLatch blocked = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    private void record(String event) {
      if (blocked.getCount() > 0) {
        blocked.countDown();
        try {
          if (!release.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("never released");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      events.add(event);
    }

    @Override
    public void onBatchSubmitted(BatchInfo b) {
      record("submitted " + b.batchId());
    }

    @Override
    public void onBatchStarted(BatchInfo b) {
      record("started " + b.batchId());
    }

    @Override
    public void onBatchCompleted(BatchInfo b) {
      record("completed " + b.batchId());
    }
  }

  private static List<String> eventsOf(int batches) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < batches; i++) {
      out.addAll(List.of("submitted " + i, "started " + i, "completed " + i));
    }
    return out;
  }

  @Test
  void blockedListenerDoesNotStallBatches() throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("blocked-listener")
            .batchInterval(Harness.INTERVAL)
            .parallelism(2)
            .clock(clock)
            .build();
    BlockedListener listener = new BlockedListener();
    ctx.addStreamingListener(listener);
    Queue<List<Integer>> q =
        new ConcurrentLinkedQueue<>(List.of(List.of(1), List.of(2, 3), List.of(4, 5, 6)));
    Map<Long, List<Integer>> out = new java.util.concurrent.ConcurrentHashMap<>();
    ctx.<Integer>queueCollectionStream(q).foreachBatch((rdd, b) -> out.put(b.id(), rdd.collect()));
    try {
      ctx.start();
      for (int i = 1; i <= 3; i++) {
        clock.advance(Harness.INTERVAL);
        int completed = i;
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    ctx.meterRegistry().get("sluice.batches.completed").counter().count()
                        == completed);
      }
      // Every batch ran and committed while the listener was still stuck in the first event.
      assertThat(listener.blocked.getCount()).isZero();
      assertThat(listener.events).isEmpty();
      assertThat(out).isEqualTo(Map.of(0L, List.of(1), 1L, List.of(2, 3), 2L, List.of(4, 5, 6)));
      listener.release.countDown();
    } finally {
      ctx.stop(false);
    }
    assertThat(listener.events)
        .filteredOn(e -> e.startsWith("completed"))
        .containsExactly("completed 0", "completed 1", "completed 2");
    assertThat(listener.events).containsExactlyInAnyOrderElementsOf(eventsOf(3));
    assertThat(
            ctx.meterRegistry()
                .get("sluice.listener.events.dropped")
                .tag("app", "blocked-listener")
                .counter()
                .count())
        .isZero();
  }

  @Test
  void whenStopReturnsEveryEventPostedBeforeItWasDelivered() throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("drain-on-stop")
            .batchInterval(Harness.INTERVAL)
            .parallelism(2)
            .clock(clock)
            .build();
    BlockedListener listener = new BlockedListener();
    ctx.addStreamingListener(listener);
    ctx.queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1), List.of(2))))
        .foreachBatch((rdd, b) -> rdd.count());
    ctx.start();
    for (int i = 1; i <= 3; i++) {
      clock.advance(Harness.INTERVAL);
      int completed = i;
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  ctx.meterRegistry().get("sluice.batches.completed").counter().count()
                      == completed);
    }
    // The listener is released only once the stop has begun, so stop() must wait for the queued
    // events.
    Thread releaser =
        new Thread(
            () -> {
              await()
                  .atMost(Duration.ofSeconds(20))
                  .until(() -> ctx.state() == StreamingContext.State.STOPPED);
              listener.release.countDown();
            });
    releaser.start();
    ctx.stop(true);

    assertThat(listener.events).containsExactlyInAnyOrderElementsOf(eventsOf(3));
    assertThat(listener.events.get(listener.events.size() - 1)).isEqualTo("completed 2");
    releaser.join(20_000);
  }
}
