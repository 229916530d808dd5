package io.sluice.engine.dstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.Harness;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class InputDStreamSpiTest {

  /** A plan: the half-open range of numbers a batch reads. */
  record Range(long from, long until) {}

  /**
   * Reads {@code perBatch} consecutive numbers per batch, up to an optional end; logs every call.
   */
  static final class CountingInput extends InputDStream<Long, Range> {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<String, String> threads = new ConcurrentHashMap<>();
    final List<Long> rates = new CopyOnWriteArrayList<>();
    final long perBatch;
    final long end;
    long next;

    CountingInput(StreamingContext ctx, String name, long perBatch, long end) {
      super(ctx, name, Range.class);
      this.perBatch = perBatch;
      this.end = end;
    }

    @Override
    public Range plan(long batchId, Instant batchTime) {
      calls.add("plan " + batchId);
      threads.put("plan", Thread.currentThread().getName());
      Range r = new Range(next, Math.min(end, next + perBatch));
      next = r.until();
      return r;
    }

    @Override
    public RDD<Long> compute(long batchId, Instant batchTime, Range plan) {
      calls.add("compute " + batchId);
      List<Long> data = LongStream.range(plan.from(), plan.until()).boxed().toList();
      return context().parallelize(data, 2);
    }

    @Override
    public long recordCount(Range plan) {
      return plan.until() - plan.from();
    }

    @Override
    public void commit(Batch batch, Range plan) {
      calls.add("commit " + batch.id());
      threads.put("commit", Thread.currentThread().getName());
      assertThat(batch.plan(name(), Range.class)).contains(plan);
    }

    @Override
    public void onRateUpdate(long recordsPerSecond) {
      rates.add(recordsPerSecond);
    }

    @Override
    public boolean isExhausted() {
      return next >= end;
    }

    @Override
    public void start() {
      calls.add("start");
    }

    @Override
    public void stop() {
      calls.add("stop");
    }
  }

  @Test
  void plansComputesRunsAndCommitsEachBatchInOrder() {
    List<String> outputs = new CopyOnWriteArrayList<>();
    CountingInput in;
    try (Harness h = new Harness(2)) {
      in = new CountingInput(h.ctx, "numbers", 10, Long.MAX_VALUE);
      Map<Long, List<Long>> out = new ConcurrentHashMap<>();
      in.foreachBatch(
          (rdd, batch) -> {
            outputs.add("output " + batch.id());
            in.calls.add("output " + batch.id());
            out.put(batch.id(), rdd.collect());
            assertThat(batch.plans()).containsOnlyKeys("numbers");
            assertThat(batch.planList())
                .containsExactly(new Range(batch.id() * 10, batch.id() * 10 + 10));
          });
      h.runBatches(3);

      assertThat(out.get(2L)).containsExactly(20L, 21L, 22L, 23L, 24L, 25L, 26L, 27L, 28L, 29L);
      assertThat(h.completedInfos())
          .extracting(BatchInfo::numRecords)
          .containsExactly(10L, 10L, 10L);
    }
    assertThat(in.calls)
        .containsExactly(
            "start",
            "plan 0",
            "compute 0",
            "output 0",
            "commit 0",
            "plan 1",
            "compute 1",
            "output 1",
            "commit 1",
            "plan 2",
            "compute 2",
            "output 2",
            "commit 2",
            "stop");
    assertThat(in.threads.get("plan")).isEqualTo("sluice-job-generator");
    // Nothing the next batch reads follows this input's commit: it runs on the committer thread,
    // beside the next batch's jobs (see OverlappedCommitTest).
    assertThat(in.threads.get("commit")).isEqualTo("sluice-committer");
    assertThat(in.name()).isEqualTo("numbers");
    assertThat(in.planType()).isEqualTo(Range.class);
  }

  @Test
  void failedBatchIsNotCommitted() {
    Harness h = new Harness(2);
    CountingInput in = new CountingInput(h.ctx, "numbers", 5, Long.MAX_VALUE);
    in.foreachBatch(
        "sink",
        (rdd, batch) -> {
          rdd.foreach(
              x -> {
                if (x == 12) {
                  throw new IllegalArgumentException("cannot write 12");
                }
              });
        });
    h.runBatches(2);
    h.clock.advance(Duration.ofSeconds(1));

    assertThatThrownBy(h.ctx::awaitTermination)
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.batchId()).isEqualTo(2);
              assertThat(e.outputOperation()).isEqualTo("sink");
              // batch 2 reads [10, 15) in two slices: [10, 12) and [12, 15)
              assertThat(e.partition()).isEqualTo(1);
            });
    assertThat(in.calls)
        .filteredOn(c -> c.startsWith("commit"))
        .containsExactly("commit 0", "commit 1");
    assertThat(in.calls).contains("plan 2", "compute 2").endsWith("stop");
  }

  @Test
  void contextStopsByItselfWhenEveryInputIsExhausted() throws Exception {
    Harness h = new Harness(2);
    CountingInput in = new CountingInput(h.ctx, "bounded", 10, 25);
    List<Long> seen = new CopyOnWriteArrayList<>();
    in.foreachBatch((rdd, batch) -> seen.addAll(rdd.collect()));
    h.runBatches(2);
    h.clock.advance(Duration.ofSeconds(1));

    assertThat(h.ctx.awaitTermination(Duration.ofSeconds(20))).isTrue();
    assertThat(seen).containsExactlyElementsOf(LongStream.range(0, 25).boxed().toList());
    assertThat(in.calls)
        .filteredOn(c -> c.startsWith("commit"))
        .containsExactly("commit 0", "commit 1", "commit 2");
  }

  @Test
  void anInputCanBeRenamedBeforeStartToAFreeName() {
    try (Harness h = new Harness(1)) {
      CountingInput a = new CountingInput(h.ctx, "numbers", 1, 1);
      new CountingInput(h.ctx, "others", 1, 1);
      assertThat(a.name("orders").name()).isEqualTo("orders");
      assertThatThrownBy(() -> a.name("others"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'others' is already used");
      assertThat(a.name()).isEqualTo("orders");
    }
  }

  @Test
  void duplicateInputNameIsRefused() {
    try (Harness h = new Harness(1)) {
      new CountingInput(h.ctx, "numbers", 1, 1);
      assertThatThrownBy(() -> new CountingInput(h.ctx, "numbers", 1, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'numbers' is already used");
    }
  }

  @Test
  void backpressureFeedsPidEstimatorAndUpdatesInputRate() {
    List<Long> rates;
    try (Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("bp")
                .batchInterval(Duration.ofSeconds(1))
                .parallelism(2)
                .backpressure(true))) {
      CountingInput in = new CountingInput(h.ctx, "numbers", 1000, Long.MAX_VALUE);
      in.foreachBatch(
          (rdd, batch) -> {
            rdd.count();
            // Processing "takes" 100 ms of manual time: 1000 records at 10,000 records/s.
            h.clock.advance(Duration.ofMillis(100));
          });
      h.runBatches(3);
      rates = new ArrayList<>(in.rates);
    }
    // Batch 0 seeds the estimator (10,000/s). The manual clock drifts 100 ms per batch, so batch 1
    // starts 100 ms late: backlog 0.1 s * 10,000/s over 1 s = 1,000 -> 10,000 - 0.2 * 1,000 =
    // 9,800.
    // Batch 2 starts 200 ms late: error 9,800 - 10,000 = -200, backlog 2,000 -> 9,800 + 200 - 400 =
    // 9,600.
    assertThat(rates).containsExactly(9_800L, 9_600L);
  }
}
