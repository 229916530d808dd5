package io.sluice.engine.dstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.Harness;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * A batch's own input commit runs on the committer thread while the next batch's jobs run, and
 * commits stay in batch order: the next commit starts only after the previous one ended, a failed
 * commit stops the context before any later batch commits, and a batch is reported completed only
 * after its commit. Where the next batch depends on the commit (keyed state), commits stay on the
 * scheduler thread, between batches.
 */
class OverlappedCommitTest {

  /** Ten numbers per batch; its commit of batch {@code holdAt} waits for {@link #release}. */
  static final class HeldInput extends InputDStream<Long, InputDStreamSpiTest.Range> {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<Long, String> commitThreads = new ConcurrentHashMap<>();
    final CountDownLatch release = new CountDownLatch(1);
    final long holdAt;
    final long failAt;
    long next;

    HeldInput(StreamingContext ctx, long holdAt, long failAt) {
      super(ctx, "numbers", InputDStreamSpiTest.Range.class);
      this.holdAt = holdAt;
      this.failAt = failAt;
    }

    @Override
    public InputDStreamSpiTest.Range plan(long batchId, Instant batchTime) {
      InputDStreamSpiTest.Range r = new InputDStreamSpiTest.Range(next, next + 10);
      next = r.until();
      return r;
    }

    @Override
    public RDD<Long> compute(long batchId, Instant batchTime, InputDStreamSpiTest.Range plan) {
      return context().parallelize(LongStream.range(plan.from(), plan.until()).boxed().toList(), 2);
    }

    @Override
    public long recordCount(InputDStreamSpiTest.Range plan) {
      return plan.until() - plan.from();
    }

    @Override
    public void commit(Batch batch, InputDStreamSpiTest.Range plan) {
      calls.add("commit " + batch.id() + " begins");
      commitThreads.put(batch.id(), Thread.currentThread().getName());
      if (batch.id() == holdAt) {
        try {
          if (!release.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      if (batch.id() == failAt) {
        calls.add("commit " + batch.id() + " fails");
        throw new IllegalStateException("the store refused batch " + batch.id());
      }
      calls.add("commit " + batch.id() + " ends");
    }
  }

  /** Records "completed N" for each completed batch, in the order the listener sees them. */
  private static void recordCompletions(StreamingContext ctx, List<String> calls) {
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            calls.add("completed " + batch.batchId());
          }
        });
  }

  @Test
  void theNextBatchRunsWhileACommitIsInFlightAndCommitsAndCompletionsStayInOrder() {
    HeldInput in;
    try (Harness h = new Harness(2)) {
      in = new HeldInput(h.ctx, 0, -1);
      recordCompletions(h.ctx, in.calls);
      in.foreachBatch((rdd, batch) -> in.calls.add("output " + batch.id() + " " + rdd.count()));
      h.ctx.start();
      h.clock.advance(Harness.INTERVAL.multipliedBy(3)); // batches 0, 1 and 2 are due at once

      // Batch 1's job ran while batch 0's commit is held; batch 1's commit waits for it.
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> in.calls.containsAll(List.of("output 1 10", "commit 0 begins")));
      try {
        assertThat(in.calls)
            .containsExactlyInAnyOrder("output 0 10", "commit 0 begins", "output 1 10");
        assertBefore(in.calls, "output 0 10", "commit 0 begins");
        assertThat(in.commitThreads.get(0L)).isEqualTo("sluice-committer");
      } finally {
        in.release.countDown();
      }
      h.awaitCompleted(3);
      await().atMost(Duration.ofSeconds(20)).until(() -> in.calls.contains("completed 2"));
    }
    // The listener and the next batch's jobs run beside the committer: check the orders that
    // must hold.
    assertThat(in.calls.stream().filter(c -> c.startsWith("commit")))
        .containsExactly(
            "commit 0 begins",
            "commit 0 ends",
            "commit 1 begins",
            "commit 1 ends",
            "commit 2 begins",
            "commit 2 ends");
    assertThat(in.calls.stream().filter(c -> c.startsWith("completed")))
        .containsExactly("completed 0", "completed 1", "completed 2");
    assertBefore(in.calls, "commit 0 ends", "completed 0");
    assertBefore(in.calls, "commit 1 ends", "completed 1");
    assertBefore(in.calls, "commit 2 ends", "completed 2");
    assertBefore(in.calls, "commit 0 ends", "output 2 10"); // at most one commit in flight
    assertBefore(in.calls, "output 2 10", "commit 2 begins");
    assertThat(in.commitThreads).containsOnlyKeys(0L, 1L, 2L);
    assertThat(in.commitThreads.values()).containsOnly("sluice-committer");
  }

  private static void assertBefore(List<String> calls, String first, String then) {
    assertThat(calls).contains(first, then);
    assertThat(calls.indexOf(first))
        .as("%s before %s in %s", first, then, calls)
        .isLessThan(calls.indexOf(then));
  }

  @Test
  void aFailedCommitFailsTheContextAndNoLaterBatchCommits() {
    HeldInput in;
    Harness h = new Harness(2);
    try {
      in = new HeldInput(h.ctx, 0, 0);
      recordCompletions(h.ctx, in.calls);
      in.foreachBatch((rdd, batch) -> in.calls.add("output " + batch.id() + " " + rdd.count()));
      h.ctx.start();
      h.clock.advance(Harness.INTERVAL.multipliedBy(3));
      await().atMost(Duration.ofSeconds(20)).until(() -> in.calls.contains("output 1 10"));
      in.release.countDown();

      assertThatThrownBy(() -> h.ctx.awaitTermination())
          .isInstanceOf(BatchFailedException.class)
          .hasMessageContaining("batch 0")
          .hasMessageContaining("commit of input 'numbers'")
          .hasRootCauseMessage("the store refused batch 0");
    } finally {
      h.close();
    }
    // Batch 1 ran its output while batch 0 committed, and was abandoned uncommitted: a restart
    // replays both from the committed position. Nothing after batch 0 committed or completed.
    // Batch 1's output and the start of batch 0's commit run on different threads, in either order.
    assertThat(in.calls)
        .containsExactlyInAnyOrder(
            "output 0 10", "commit 0 begins", "output 1 10", "commit 0 fails");
    assertThat(in.calls.get(0)).isEqualTo("output 0 10");
    assertThat(in.calls.get(3)).isEqualTo("commit 0 fails");
  }

  @Test
  void withKeyedStateTheCommitStaysBetweenBatches() {
    HeldInput in;
    try (Harness h = new Harness(2)) {
      in = new HeldInput(h.ctx, -1, -1);
      recordCompletions(h.ctx, in.calls);
      PairDStream<Long, Long> counts =
          in.mapToPair(n -> KV.of(n % 2, 1L))
              .updateStateByKey(
                  (List<Long> values, Optional<Long> state) ->
                      Optional.of(state.orElse(0L) + values.size()));
      counts.foreachBatch((rdd, batch) -> in.calls.add("output " + batch.id()));
      h.ctx.start();
      h.clock.advance(Harness.INTERVAL.multipliedBy(3));
      h.awaitCompleted(3);
      await().atMost(Duration.ofSeconds(20)).until(() -> in.calls.contains("completed 2"));
    }
    assertThat(in.calls.stream().filter(c -> !c.startsWith("completed")))
        .containsExactly(
            "output 0",
            "commit 0 begins",
            "commit 0 ends",
            "output 1",
            "commit 1 begins",
            "commit 1 ends",
            "output 2",
            "commit 2 begins",
            "commit 2 ends");
    assertBefore(in.calls, "commit 2 ends", "completed 2");
    assertThat(in.commitThreads.values()).containsOnly("sluice-job-scheduler");
  }
}
