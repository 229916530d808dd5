package io.sluice.engine.dstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Harness;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@code cache()}/{@code persist()} on RDDs and streams: each partition is computed once. */
class CacheTest {

  @Test
  void aCachedRddComputesEachPartitionOnceAcrossActionsAndDerivedRdds() {
    try (Harness h = new Harness(2)) {
      AtomicInteger computed = new AtomicInteger();
      RDD<Integer> source =
          h.ctx
              .parallelize(List.of(1, 2, 3, 4, 5, 6), 3)
              .mapPartitions(
                  it -> {
                    computed.incrementAndGet();
                    return it;
                  });
      RDD<Integer> cached = source.cache();

      assertThat(cached).isSameAs(source);
      assertThat(cached.isCached()).isTrue();
      assertThat(cached.count()).isEqualTo(6);
      assertThat(cached.map(x -> x * 10).collect()).containsExactly(10, 20, 30, 40, 50, 60);
      assertThat(cached.filter(x -> x % 2 == 0).collect()).containsExactly(2, 4, 6);
      assertThat(computed).as("one computation per partition").hasValue(3);

      cached.unpersist();
      assertThat(cached.isCached()).isFalse();
      assertThat(cached.count()).isEqualTo(6);
      assertThat(computed).as("computed again after unpersist").hasValue(6);
    }
  }

  @Test
  void aPartitionWhoseComputationFailsIsNotKept() {
    try (Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("test")
                .batchInterval(Harness.INTERVAL)
                .parallelism(1)
                .maxTaskAttempts(1))) {
      AtomicInteger attempts = new AtomicInteger();
      RDD<Integer> flaky =
          h.ctx
              .parallelize(List.of(1, 2, 3), 1)
              .map(
                  x -> {
                    if (x == 3 && attempts.incrementAndGet() == 1) {
                      throw new IllegalStateException("fails once");
                    }
                    return x;
                  })
              .persist();

      assertThatThrownBy(flaky::count).hasRootCauseMessage("fails once");
      assertThat(flaky.collect()).as("computed again, to the end").containsExactly(1, 2, 3);
      assertThat(flaky.collect()).containsExactly(1, 2, 3);
      assertThat(attempts).hasValue(2);
    }
  }

  @Test
  void aCachedStreamIsComputedOncePerBatchForAllItsOutputsAndReleasedAfterTheBatch() {
    try (Harness h = new Harness(2)) {
      Queue<RDD<Integer>> queue = new ConcurrentLinkedQueue<>();
      for (int b = 0; b < 3; b++) {
        queue.add(h.ctx.parallelize(List.of(b, b + 10, b + 20, b + 30), 2));
      }
      Map<Long, AtomicInteger> computedPerBatch = new ConcurrentHashMap<>();
      DStream<Integer> parsed =
          h.ctx
              .queueStream(queue)
              .transform(
                  (rdd, time) ->
                      rdd.mapPartitions(
                          it -> {
                            computedPerBatch
                                .computeIfAbsent(time.getEpochSecond(), t -> new AtomicInteger())
                                .incrementAndGet();
                            return it;
                          }))
              .cache();
      List<RDD<Integer>> seen = new CopyOnWriteArrayList<>();
      Map<Long, Long> counts = new ConcurrentHashMap<>();
      Map<Long, List<Integer>> values = new ConcurrentHashMap<>();
      parsed.foreachBatch(
          (rdd, batch) -> {
            seen.add(rdd);
            counts.put(batch.id(), rdd.count());
          });
      parsed.foreachBatch((rdd, batch) -> values.put(batch.id(), new ArrayList<>(rdd.collect())));

      h.runBatches(3);

      assertThat(counts)
          .containsOnlyKeys(0L, 1L, 2L)
          .allSatisfy((id, n) -> assertThat(n).isEqualTo(4));
      assertThat(values.get(1L)).containsExactly(1, 11, 21, 31);
      assertThat(computedPerBatch.values())
          .as("2 partitions computed once per batch, not once per output")
          .hasSize(3)
          .allSatisfy(n -> assertThat(n).hasValue(2));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(seen).hasSize(3).allSatisfy(r -> assertThat(r.isCached()).isFalse()));
    }
  }

  @Test
  void withoutCacheEveryOutputComputesTheBatchAgain() {
    try (Harness h = new Harness(2)) {
      Queue<RDD<Integer>> queue = new ConcurrentLinkedQueue<>();
      queue.add(h.ctx.parallelize(List.of(1, 2, 3, 4), 2));
      AtomicInteger computed = new AtomicInteger();
      DStream<Integer> parsed =
          h.ctx
              .queueStream(queue)
              .mapPartitions(
                  it -> {
                    computed.incrementAndGet();
                    return it;
                  });
      parsed.foreachRDD(RDD::count);
      parsed.foreachRDD(RDD::collect);

      h.runBatches(1);

      assertThat(parsed.isCached()).isFalse();
      assertThat(computed).hasValue(4);
    }
  }

  @Test
  void aWindowOverACachedStreamComputesEachBatchOnce() {
    try (Harness h = new Harness(2)) {
      Queue<RDD<Integer>> queue = new ConcurrentLinkedQueue<>();
      for (int b = 0; b < 5; b++) {
        queue.add(h.ctx.parallelize(List.of(b), 1));
      }
      Map<Integer, AtomicInteger> computed = new ConcurrentHashMap<>();
      DStream<Integer> parsed =
          h.ctx
              .queueStream(queue)
              .map(
                  x -> {
                    computed.computeIfAbsent(x, k -> new AtomicInteger()).incrementAndGet();
                    return x;
                  })
              .persist();
      Map<Long, List<Integer>> windows = h.collect(parsed.window(Harness.INTERVAL.multipliedBy(3)));

      h.runBatches(5);

      assertThat(windows.get(4L)).containsExactlyInAnyOrder(2, 3, 4);
      assertThat(windows.get(2L)).containsExactlyInAnyOrder(0, 1, 2);
      assertThat(computed)
          .hasSize(5)
          .allSatisfy((x, n) -> assertThat(n).as("batch " + x).hasValue(1));
    }
  }

  @Test
  void cacheIsRefusedAfterStart() {
    try (Harness h = new Harness(1)) {
      Queue<RDD<Integer>> queue = new ConcurrentLinkedQueue<>();
      DStream<Integer> s = h.ctx.queueStream(queue);
      s.foreachRDD(RDD::count);
      h.ctx.start();
      assertThatThrownBy(s::cache).isInstanceOf(IllegalStateException.class);
    }
  }
}
