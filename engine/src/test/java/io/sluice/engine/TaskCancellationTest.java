package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.dstream.DStream;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A task or job that fails for good cancels the tasks of its job that are still running. */
class TaskCancellationTest {

  private static final int PARTITIONS = 4;

  /**
   * Partition 0 fails for good once every other partition is running; the others wait for a latch
   * nobody counts down, and count the interruption that ends them.
   */
  private static final class BlockedJob {
    final CountDownLatch othersRunning = new CountDownLatch(PARTITIONS - 1);
    final CountDownLatch never = new CountDownLatch(1);
    final AtomicInteger interrupted = new AtomicInteger();
    final AtomicInteger attempts = new AtomicInteger();

    Integer run(int partition) throws InterruptedException {
      attempts.incrementAndGet();
      if (partition == 0) {
        if (!othersRunning.await(20, TimeUnit.SECONDS)) {
          throw new AssertionError("the other tasks did not start");
        }
        throw new TerminalException("partition 0 is broken");
      }
      othersRunning.countDown();
      try {
        never.await();
      } catch (InterruptedException e) {
        interrupted.incrementAndGet();
        throw e;
      }
      return partition;
    }
  }

  private static List<Integer> partitions() {
    return IntStream.range(0, PARTITIONS).boxed().toList();
  }

  @Test
  void failedTaskInterruptsTheOtherTasksOfItsJobAndTheSlotsRunTheNextJob() {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("cancel-rdd")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(PARTITIONS)
            .maxTaskAttempts(3)
            .build();
    try {
      BlockedJob job = new BlockedJob();
      RDD<Integer> rdd = ctx.parallelize(partitions(), PARTITIONS);

      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () ->
              assertThatThrownBy(() -> rdd.runJob((it, tc) -> job.run(it.next())))
                  .isInstanceOfSatisfying(
                      TaskFailedException.class,
                      e -> {
                        assertThat(e.partition()).isZero();
                        assertThat(e.getCause())
                            .isInstanceOf(TerminalException.class)
                            .hasMessage("partition 0 is broken");
                      }));

      // runJob returned only after every task ended: each blocked task saw its interruption, none
      // retried.
      assertThat(job.interrupted).hasValue(PARTITIONS - 1);
      assertThat(job.attempts).hasValue(PARTITIONS);
      assertThat(ctx.meterRegistry().get("sluice.task.retries").counter().count()).isZero();

      // The same slots run the next job, and no interrupt of the cancelled job reaches its tasks.
      List<Thread> threads = new CopyOnWriteArrayList<>();
      CountDownLatch allRunning = new CountDownLatch(PARTITIONS);
      List<Integer> out =
          rdd.runJob(
              (it, tc) -> {
                threads.add(Thread.currentThread());
                allRunning.countDown();
                assertThat(allRunning.await(20, TimeUnit.SECONDS)).isTrue();
                return it.next();
              });
      assertThat(out).containsExactlyElementsOf(partitions());
      assertThat(threads)
          .extracting(Thread::getName)
          .allMatch(n -> n.startsWith("sluice-task-"))
          .doesNotHaveDuplicates();
    } finally {
      ctx.stop(false);
    }
  }

  @Test
  void failedTaskFailsTheBatchPromptlyWhileTheOtherTasksBlock() throws Exception {
    BlockedJob job = new BlockedJob();
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("cancel-batch")
                .batchInterval(Harness.INTERVAL)
                .parallelism(PARTITIONS)
                .maxTaskAttempts(3));
    Queue<RDD<Integer>> q =
        new ConcurrentLinkedQueue<>(List.of(h.ctx.parallelize(partitions(), PARTITIONS)));
    h.ctx.queueStream(q).map(job::run).foreachBatch("blocked", (rdd, batch) -> rdd.collect());
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);

    assertThatThrownBy(() -> h.ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.batchId()).isZero();
              assertThat(e.outputOperation()).isEqualTo("blocked");
              assertThat(e.partition()).isZero();
              assertThat(e.getCause()).isInstanceOf(TerminalException.class);
            });
    assertThat(job.interrupted).hasValue(PARTITIONS - 1);
    assertThat(job.attempts).hasValue(PARTITIONS);
    assertThat(h.ctx.meterRegistry().get("sluice.task.retries").counter().count()).isZero();
  }

  @Test
  void failedJobCancelsTheTasksOfAConcurrentJobOfTheSameBatch() throws Exception {
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("cancel-jobs")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .concurrentJobs(2)
                .maxTaskAttempts(3));
    CountDownLatch blockedTaskRunning = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    AtomicReference<Throwable> seenBySlow = new AtomicReference<>();
    List<String> completedOperations = new CopyOnWriteArrayList<>();
    h.ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onOutputOperationCompleted(OutputOperationInfo info) {
            completedOperations.add(info.name() + ": " + info.failureReason().orElse("ok"));
          }
        });
    DStream<Integer> s =
        h.ctx.queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1))));
    s.foreachBatch(
        "slow",
        (rdd, batch) -> {
          try {
            rdd.foreach(
                x -> {
                  blockedTaskRunning.countDown();
                  try {
                    never.await();
                  } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                    throw e;
                  }
                });
          } catch (RuntimeException e) {
            seenBySlow.set(e);
            throw e;
          }
        });
    s.foreachBatch(
        "failing",
        (rdd, batch) -> {
          assertThat(blockedTaskRunning.await(20, TimeUnit.SECONDS)).isTrue();
          throw new IllegalStateException("the sink is down");
        });
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);

    assertThatThrownBy(() -> h.ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.outputOperation()).isEqualTo("failing");
              assertThat(e.getCause())
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessage("the sink is down");
            });
    assertThat(interrupted).hasValue(1);
    assertThat(h.ctx.meterRegistry().get("sluice.task.retries").counter().count()).isZero();
    assertThat(completedOperations).hasSize(2);
    assertThat(completedOperations)
        .filteredOn(o -> o.startsWith("failing: "))
        .singleElement()
        .asString()
        .endsWith("java.lang.IllegalStateException: the sink is down");
    assertThat(completedOperations)
        .filteredOn(o -> o.startsWith("slow: "))
        .singleElement()
        .asString()
        .contains("cancelled: output operation 'failing' of batch 0 failed");
    // The action of the cancelled job throws a public type naming the job and the reason.
    assertThat(seenBySlow.get())
        .isExactlyInstanceOf(JobCancelledException.class)
        .hasMessageMatching(
            "job \\d+ of output operation 'slow' \\(batch 0\\) cancelled: output operation"
                + " 'failing' of batch 0 failed");
    assertThat(((SluiceException) seenBySlow.get()).retriable()).isFalse();
  }

  @Test
  void actionOfAJobCancelledByStopThrowsJobCancelledException() throws Exception {
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("cancel-stop")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2));
    CountDownLatch taskRunning = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    AtomicReference<Throwable> seen = new AtomicReference<>();
    DStream<Integer> s =
        h.ctx.queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1, 2))));
    s.map(
            x -> {
              taskRunning.countDown();
              never.await();
              return x;
            })
        .foreachBatch(
            "blocked",
            (rdd, batch) -> {
              try {
                rdd.collect();
              } catch (RuntimeException e) {
                seen.set(e);
                throw e;
              }
            });
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    assertThat(taskRunning.await(20, TimeUnit.SECONDS)).isTrue();

    h.ctx.stop(false);

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(seen.get())
                    .isExactlyInstanceOf(JobCancelledException.class)
                    .hasMessageMatching(
                        "job \\d+ of output operation 'blocked' \\(batch 0\\) cancelled: the"
                            + " context is stopping"));
  }
}
