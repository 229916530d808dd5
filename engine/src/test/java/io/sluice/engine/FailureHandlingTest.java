package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.rdd.TaskContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FailureHandlingTest {

  private static List<Integer> range(int from, int until) {
    return IntStream.range(from, until).boxed().toList();
  }

  @Test
  void taskFailingOnceIsRetriedAndOutputHoldsEachRecordOnce() {
    try (Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("retry")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .maxTaskAttempts(4))) {
      Queue<List<Integer>> q = new ConcurrentLinkedQueue<>(List.of(range(0, 100)));
      AtomicBoolean failed = new AtomicBoolean();
      List<Integer> attemptsOfFailedPartition = new CopyOnWriteArrayList<>();
      Map<Long, List<Integer>> out =
          h.collect(
              h.ctx
                  .queueCollectionStream(q)
                  .map(
                      x -> {
                        if (x == 57) {
                          attemptsOfFailedPartition.add(
                              TaskContext.current().orElseThrow().attemptNumber());
                          if (failed.compareAndSet(false, true)) {
                            throw new IllegalStateException("injected failure");
                          }
                        }
                        return x;
                      }));

      h.runBatches(1);

      assertThat(out.get(0L)).containsExactlyElementsOf(range(0, 100));
      assertThat(attemptsOfFailedPartition).containsExactly(0, 1);
      assertThat(h.ctx.meterRegistry().get("sluice.task.retries").counter().count()).isEqualTo(1.0);
    }
  }

  @Test
  void failureBeyondMaxTaskAttemptsStopsContextAndAwaitTerminationRethrows() throws Exception {
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("fail")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .maxTaskAttempts(3));
    Queue<List<Integer>> q =
        new ConcurrentLinkedQueue<>(List.of(range(0, 10), range(10, 20), range(20, 30)));
    Map<Long, List<Integer>> out = new ConcurrentHashMap<>();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    h.ctx
        .<Integer>queueCollectionStream(q)
        .map(
            x -> {
              if (x == 17) {
                attempts.add(TaskContext.current().orElseThrow().attemptNumber());
                throw new IllegalStateException("bad record 17");
              }
              return x;
            })
        .foreachBatch("collect-out", (rdd, batch) -> out.put(batch.id(), rdd.collect()));
    List<Long> failedBatches = new CopyOnWriteArrayList<>();
    h.ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failedBatches.add(batch.batchId());
          }
        });

    h.runBatches(1);
    h.clock.advance(Harness.INTERVAL.multipliedBy(2));

    assertThatThrownBy(h.ctx::awaitTermination)
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.batchId()).isEqualTo(1);
              assertThat(e.outputOperation()).isEqualTo("collect-out");
              assertThat(e.partition()).isEqualTo(1);
              assertThat(e.getCause())
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessage("bad record 17");
            })
        .hasMessageContaining("batch 1")
        .hasMessageContaining("collect-out")
        .hasMessageContaining("partition 1");
    assertThat(attempts).containsExactly(0, 1, 2);
    assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    assertThat(out).containsOnlyKeys(0L);
    assertThat(failedBatches).containsExactly(1L);
    assertThat(h.ctx.meterRegistry().get("sluice.batches.failed").counter().count()).isEqualTo(1.0);
    assertThat(h.ctx.meterRegistry().get("sluice.batches.completed").counter().count())
        .isEqualTo(1.0);
  }

  @Test
  void checkedExceptionInOutputFunctionFailsBatchWithoutPartition() throws Exception {
    Harness h = new Harness(1);
    h.ctx
        .queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>())
        .foreachBatch(
            (rdd, batch) -> {
              throw new java.io.IOException("disk full");
            });
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    assertThatThrownBy(() -> h.ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.batchId()).isZero();
              assertThat(e.partition()).isEqualTo(-1);
              assertThat(e.outputOperation()).startsWith("foreachBatch-");
              assertThat(e.getCause())
                  .isInstanceOf(java.io.IOException.class)
                  .hasMessage("disk full");
            });
  }

  @Test
  void outputOperationsAfterAFailedOneDoNotRun() throws Exception {
    Harness h = new Harness(1);
    List<String> ran = new CopyOnWriteArrayList<>();
    var s = h.ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>());
    s.foreachBatch("first", (rdd, b) -> ran.add("first"));
    s.foreachBatch(
        "second",
        (rdd, b) -> {
          ran.add("second");
          throw new IllegalStateException("second fails");
        });
    s.foreachBatch("third", (rdd, b) -> ran.add("third"));
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    assertThatThrownBy(h.ctx::awaitTermination)
        .isInstanceOfSatisfying(
            BatchFailedException.class, e -> assertThat(e.outputOperation()).isEqualTo("second"));
    assertThat(ran).containsExactly("first", "second");
  }

  @Test
  void terminalExceptionIsNotRetried() throws Exception {
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("terminal")
                .batchInterval(Harness.INTERVAL)
                .parallelism(1)
                .maxTaskAttempts(4));
    List<Integer> attempts = new ArrayList<>();
    h.collect(
        h.ctx
            .queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1))))
            .map(
                x -> {
                  attempts.add(TaskContext.current().orElseThrow().attemptNumber());
                  throw new TerminalException("data lost");
                }));
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    assertThatThrownBy(h.ctx::awaitTermination)
        .isInstanceOf(BatchFailedException.class)
        .hasCauseInstanceOf(TerminalException.class);
    assertThat(attempts).containsExactly(0);
  }
}
