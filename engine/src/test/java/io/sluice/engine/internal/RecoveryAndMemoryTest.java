package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.Batch;
import io.sluice.engine.Harness;
import io.sluice.engine.KV;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class RecoveryAndMemoryTest {

  record Range(long from, long until) {}

  static class RangeInput extends InputDStream<Long, Range> {
    final List<String> calls = new CopyOnWriteArrayList<>();
    long next;

    RangeInput(StreamingContext ctx) {
      super(ctx, "numbers", Range.class);
    }

    @Override
    public Range plan(long batchId, Instant batchTime) {
      calls.add("plan " + batchId);
      Range r = new Range(next, next + 10);
      next = r.until();
      return r;
    }

    @Override
    public RDD<Long> compute(long batchId, Instant batchTime, Range plan) {
      calls.add("compute " + batchId + " " + plan);
      return context().parallelize(LongStream.range(plan.from(), plan.until()).boxed().toList(), 2);
    }

    @Override
    public void restore(long batchId, Range lastPlan) {
      calls.add("restore " + batchId + " " + lastPlan);
      next = lastPlan.until();
    }

    @Override
    public void commit(Batch batch, Range plan) {
      calls.add("commit " + batch.id());
    }
  }

  /** A journal that pretends batches 3 and 4 were planned but not committed before a crash. */
  static final class CrashedJournal implements BatchJournal {
    final List<Batch> uncommitted =
        List.of(
            new Batch(3, Instant.ofEpochMilli(4_000), Map.of("numbers", new Range(30, 40))),
            new Batch(4, Instant.ofEpochMilli(5_000), Map.of("numbers", new Range(40, 50))));
    final List<String> log = new CopyOnWriteArrayList<>();

    @Override
    public void planned(Batch batch) {
      log.add("planned " + batch.id());
    }

    @Override
    public void committed(long batchId) {
      log.add("committed " + batchId);
    }

    @Override
    public void dropped(long throughBatchId) {
      log.add("dropped " + throughBatchId);
    }

    @Override
    public Recovery recover() {
      return new Recovery(uncommitted, 2);
    }

    @Override
    public void close() {}
  }

  @Test
  void replaysUncommittedBatchesWithSameIdsAndPlansBeforePlanningNewOnes() {
    ManualClock clock = new ManualClock(Instant.ofEpochMilli(5_000));
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("recover")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .clock(clock)
            .build();
    CrashedJournal journal = new CrashedJournal();
    EngineAccess.runtime(ctx).batchJournal(journal);
    RangeInput in = new RangeInput(ctx);
    Map<Long, List<Long>> out = new ConcurrentHashMap<>();
    Map<Long, Instant> times = new ConcurrentHashMap<>();
    in.foreachBatch(
        (rdd, batch) -> {
          out.put(batch.id(), rdd.collect());
          times.put(batch.id(), batch.time());
        });
    ctx.start();
    org.awaitility.Awaitility.await().until(() -> journal.log.contains("committed 4"));
    clock.advance(Duration.ofSeconds(1));
    org.awaitility.Awaitility.await().until(() -> journal.log.contains("committed 5"));
    ctx.stop(true);

    // The generator instantiates replayed batches without waiting for earlier ones to run.
    assertThat(in.calls)
        .filteredOn(c -> !c.startsWith("commit"))
        .containsExactly(
            "restore 4 Range[from=40, until=50]",
            "compute 3 Range[from=30, until=40]",
            "compute 4 Range[from=40, until=50]",
            "plan 5",
            "compute 5 Range[from=50, until=60]");
    assertThat(in.calls)
        .filteredOn(c -> c.startsWith("commit"))
        .containsExactly("commit 3", "commit 4", "commit 5");
    assertThat(in.calls.indexOf("commit 4")).isLessThan(in.calls.indexOf("plan 5"));
    assertThat(journal.log)
        .containsExactly("committed 3", "committed 4", "planned 5", "committed 5");
    assertThat(out.get(3L)).containsExactlyElementsOf(LongStream.range(30, 40).boxed().toList());
    assertThat(times)
        .containsEntry(3L, Instant.ofEpochMilli(4_000))
        .containsEntry(5L, Instant.ofEpochMilli(6_000));
  }

  @Test
  void rddsAreRememberedOnlyWhileAWindowNeedsThem() {
    try (Harness h = new Harness(2)) {
      Queue<List<String>> q = new ConcurrentLinkedQueue<>();
      for (int i = 0; i < 30; i++) {
        q.add(List.of("a", "b" + i));
      }
      DStream<String> in = h.ctx.queueCollectionStream(q);
      DStream<String> mapped = in.map(s -> s);
      mapped
          .mapToPair(w -> KV.of(w, 1L))
          .reduceByKeyAndWindow(
              Long::sum, (a, b) -> a - b, Duration.ofSeconds(4), Duration.ofSeconds(2))
          .foreachBatch((rdd, b) -> rdd.count());
      mapped.count().foreachBatch((rdd, b) -> rdd.collect());
      h.runBatches(30);

      DStreamAccess access = DStreamAccess.get();
      // remember = window 4 s + slide 2 s + the window state's own 2 s: times in [t - 8 s, t]
      assertThat(access.rememberedTimes(mapped)).hasSize(9);
      assertThat(access.rememberedTimes(in)).hasSize(9);
      assertThat(access.rememberedTimes(in).get(access.rememberedTimes(in).size() - 1))
          .isEqualTo(Instant.ofEpochMilli(30_000));
    }
  }
}
