package io.sluice.engine.rdd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine's hand-off from tasks to the job thread: chunks, back-pressure, cancellation, retries.
 */
class ConsumePartitionsTest {

  private final StreamingContext ctx =
      StreamingContext.builder()
          .appName("consume")
          .batchInterval(Duration.ofSeconds(1))
          .parallelism(3)
          .maxTaskAttempts(3)
          .build();

  @AfterEach
  void stop() {
    ctx.stop(false);
  }

  private RDD<Integer> numbers(int n, int partitions) {
    return ctx.parallelize(IntStream.range(0, n).boxed().toList(), partitions);
  }

  @Test
  void everyElementArrivesOnceInChunksOnTheCallingThreadInPartitionOrder() throws Exception {
    Thread caller = Thread.currentThread();
    Map<Integer, List<Integer>> byPartition = new ConcurrentHashMap<>();
    List<Integer> sizes = new ArrayList<>();
    numbers(10_000, 7)
        .consumePartitions(
            300,
            4,
            (partition, chunk) -> {
              assertThat(Thread.currentThread()).isSameAs(caller);
              sizes.add(chunk.size());
              byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).addAll(chunk);
            });

    assertThat(sizes).allSatisfy(size -> assertThat(size).isBetween(1, 300));
    List<Integer> all = new ArrayList<>();
    for (int p = 0; p < 7; p++) {
      List<Integer> part = byPartition.get(p);
      assertThat(part).isSorted();
      all.addAll(part);
    }
    assertThat(all).containsExactlyElementsOf(IntStream.range(0, 10_000).boxed().toList());
  }

  @Test
  void tasksCannotRunAheadOfTheConsumerByMoreThanTheQueuedChunks() throws Exception {
    AtomicLong pulled = new AtomicLong();
    AtomicLong consumed = new AtomicLong();
    AtomicLong maxAhead = new AtomicLong();
    AtomicLong pulledWhenStalled = new AtomicLong(-1);
    RDD<Integer> counted =
        numbers(60_000, 6)
            .map(
                i -> {
                  maxAhead.accumulateAndGet(pulled.incrementAndGet() - consumed.get(), Math::max);
                  return i;
                });
    // 2 queued chunks, 1 being consumed, 1 being filled per slot (3 slots), one element of slack
    // each.
    long bound = (2 + 1 + 3) * 100 + 3;
    counted.consumePartitions(
        100,
        2,
        (partition, chunk) -> {
          if (pulledWhenStalled.get() < 0) {
            // Hold the first chunk until the tasks stop pulling: back-pressure must stall them near
            // the
            // bound, not after the whole input.
            AtomicLong last = new AtomicLong(-1);
            await()
                .pollInterval(Duration.ofMillis(50))
                .during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(20))
                .until(() -> last.getAndSet(pulled.get()) == pulled.get());
            pulledWhenStalled.set(pulled.get());
          }
          consumed.addAndGet(chunk.size());
        });

    assertThat(consumed.get()).isEqualTo(60_000);
    assertThat(pulledWhenStalled.get()).isBetween(100L, bound);
    assertThat(maxAhead.get()).isLessThanOrEqualTo(bound);
  }

  @Test
  void aConsumerFailureCancelsTheJobAndNoTaskOutlivesIt() throws Exception {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger entered = new AtomicInteger();
    AtomicInteger interrupted = new AtomicInteger();
    CountDownLatch never = new CountDownLatch(1);
    RDD<Integer> slow =
        numbers(30, 3)
            .map(
                i -> {
                  if (i % 10 == 1) {
                    entered.incrementAndGet();
                    running.incrementAndGet();
                    try {
                      never.await();
                    } catch (InterruptedException e) {
                      interrupted.incrementAndGet();
                      Thread.currentThread().interrupt();
                      throw e;
                    } finally {
                      running.decrementAndGet();
                    }
                  }
                  return i;
                });

    assertThatThrownBy(
            () ->
                slow.consumePartitions(
                    1,
                    10,
                    (partition, chunk) -> {
                      throw new IllegalStateException("database down");
                    }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("database down");

    assertThat(running.get()).as("tasks still running after the failure").isZero();
    // Every task that reached its blocking element was interrupted (one that had not started does
    // nothing).
    assertThat(entered.get()).isPositive();
    assertThat(interrupted.get()).isEqualTo(entered.get());
    // The slots are free for the next job.
    assertThat(numbers(100, 4).count()).isEqualTo(100);
  }

  @Test
  void aTaskFailingBeforeHandingOverIsRetriedAndOneFailingAfterFailsTheJob() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    List<Integer> got = new CopyOnWriteArrayList<>();
    numbers(100, 2)
        .map(
            i -> {
              if (i == 3 && attempts.getAndIncrement() == 0) {
                throw new IllegalStateException("flaky, before any hand-off");
              }
              return i;
            })
        .consumePartitions(10, 4, (partition, chunk) -> got.addAll(chunk));
    assertThat(got).hasSize(100).doesNotHaveDuplicates();

    AtomicInteger late = new AtomicInteger();
    List<Integer> partial = new CopyOnWriteArrayList<>();
    assertThatThrownBy(
            () ->
                numbers(100, 2)
                    .map(
                        i -> {
                          if (i == 25) {
                            late.incrementAndGet();
                            throw new IllegalStateException("flaky, after a hand-off");
                          }
                          return i;
                        })
                    .consumePartitions(10, 4, (partition, chunk) -> partial.addAll(chunk)))
        .hasMessageContaining("failed after handing over records");
    assertThat(late.get()).as("attempts of the failing partition").isEqualTo(1);
    assertThat(partial).doesNotHaveDuplicates();
  }

  @Test
  void aJobStartedInsideATaskSeesItsOwnBatchNotTheOneThatCreatedTheSlotThread() throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext one =
        StreamingContext.builder()
            .appName("scope")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(1)
            .clock(clock)
            .build();
    Map<Long, List<Long>> nestedBatchIds = new ConcurrentHashMap<>();
    CountDownLatch batches = new CountDownLatch(3);
    one.queueStream(
            new java.util.concurrent.LinkedBlockingQueue<RDD<Integer>>(),
            true,
            one.parallelize(List.of(1), 1))
        .foreachBatch(
            (rdd, batch) -> {
              rdd.foreachPartition(
                  it -> {
                    List<Long> ids =
                        one.parallelize(List.of(1, 2), 2).runJob((inner, tc) -> tc.batchId());
                    nestedBatchIds.put(batch.id(), ids);
                  });
              batches.countDown();
            });
    one.start();
    try {
      clock.advance(Duration.ofSeconds(3));
      assertThat(batches.await(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      one.stop(false);
    }
    assertThat(nestedBatchIds)
        .containsEntry(0L, List.of(0L, 0L))
        .containsEntry(1L, List.of(1L, 1L))
        .containsEntry(2L, List.of(2L, 2L));
  }
}
