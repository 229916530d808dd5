package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** A context with a {@link LeaderElection}: standby until elected, stops when the lead is lost. */
class StandbyTest {

  /** An election the test decides by hand. */
  static final class FakeElection implements LeaderElection {
    final List<Runnable> callbacks = new CopyOnWriteArrayList<>();
    private boolean leader;
    private boolean closed;
    private boolean waiting;
    private boolean knowsLost;

    @Override
    public synchronized void awaitLeadership() throws InterruptedException {
      if (closed) {
        throw new IllegalStateException("closed");
      }
      waiting = true;
      try {
        while (!leader) {
          if (closed) {
            throw new InterruptedException("election closed");
          }
          wait();
        }
      } finally {
        waiting = false;
      }
    }

    @Override
    public synchronized boolean isLeader() {
      return leader && !knowsLost;
    }

    @Override
    public void onLeadershipLost(Runnable callback) {
      callbacks.add(callback);
    }

    @Override
    public String describe() {
      return "fake";
    }

    @Override
    public synchronized void close() {
      closed = true;
      leader = false;
      notifyAll();
    }

    synchronized void elect() {
      leader = true;
      notifyAll();
    }

    /** The session ends: the election knows at once and tells its callbacks. */
    void lose() {
      synchronized (this) {
        knowsLost = true;
      }
      callbacks.forEach(Runnable::run);
    }

    /** The election knows it lost, but has not told its callbacks yet. */
    synchronized void loseSilently() {
      knowsLost = true;
    }

    synchronized boolean waiting() {
      return waiting;
    }

    synchronized boolean closed() {
      return closed;
    }
  }

  /** Ten numbers per batch; records start, plans and commits. */
  static final class Numbers extends InputDStream<Long, Long> {
    final List<String> calls = new CopyOnWriteArrayList<>();

    Numbers(StreamingContext ctx) {
      super(ctx, "numbers", Long.class);
    }

    @Override
    public Long plan(long batchId, Instant batchTime) {
      calls.add("plan " + batchId);
      return batchId * 10;
    }

    @Override
    public RDD<Long> compute(long batchId, Instant batchTime, Long from) {
      return context().parallelize(LongStream.range(from, from + 10).boxed().toList(), 2);
    }

    @Override
    public void commit(Batch batch, Long plan) {
      calls.add("commit " + batch.id());
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

  private final FakeElection election = new FakeElection();

  private Harness harness() {
    return new Harness(
        StreamingContext.builder()
            .appName("standby")
            .batchInterval(Harness.INTERVAL)
            .parallelism(2)
            .leaderElection(election));
  }

  /** Elects the fake and waits until the context has started its inputs. */
  private void elect(Numbers in) {
    await().atMost(Duration.ofSeconds(10)).until(election::waiting);
    election.elect();
    await().atMost(Duration.ofSeconds(10)).until(() -> in.calls.contains("start"));
  }

  @Test
  void startWaitsForLeadershipAndRunsNoBatchBefore() {
    try (Harness h = harness()) {
      Numbers in = new Numbers(h.ctx);
      List<Long> seen = new CopyOnWriteArrayList<>();
      in.foreachBatch((rdd, batch) -> seen.addAll(rdd.collect()));

      h.ctx.start();
      assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.ACTIVE);
      await().atMost(Duration.ofSeconds(10)).until(election::waiting);
      h.clock.advance(Harness.INTERVAL.multipliedBy(3));
      assertThat(in.calls).isEmpty();
      assertThat(h.completed()).isZero();
      assertThat(h.ctx.isLeader()).isFalse();

      elect(in);
      assertThat(h.ctx.isLeader()).isTrue();
      h.runBatches(2);
      assertThat(in.calls).containsExactly("start", "plan 0", "commit 0", "plan 1", "commit 1");
      assertThat(seen).hasSize(20);
    }
    assertThat(election.closed()).isTrue();
  }

  @Test
  void lostLeadershipStopsAtOnceAndCommitsNothingMore() throws Exception {
    Harness h = harness();
    Numbers in = new Numbers(h.ctx);
    CountDownLatch inBatch1 = new CountDownLatch(1);
    in.foreachBatch(
        (rdd, batch) -> {
          rdd.collect();
          if (batch.id() == 1) {
            inBatch1.countDown();
            // Interrupted by the hard stop: the batch fails and is not committed.
            new CountDownLatch(1).await(30, TimeUnit.SECONDS);
          }
        });
    h.ctx.start();
    elect(in);
    h.runBatches(1);
    h.clock.advance(Harness.INTERVAL);
    assertThat(inBatch1.await(10, TimeUnit.SECONDS)).isTrue();

    election.lose();

    assertThatThrownBy(() -> h.ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOf(LeadershipLostException.class)
        .hasMessageContaining("lost the leadership at fake");
    assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    assertThat(in.calls).containsExactly("start", "plan 0", "commit 0", "plan 1", "stop");
    assertThat(h.ctx.isLeader()).isFalse();
    assertThat(election.closed()).isTrue();
  }

  @Test
  void commitChecksLeadershipBeforeTheLossIsReported() throws Exception {
    Harness h = harness();
    Numbers in = new Numbers(h.ctx);
    CountDownLatch inBatch1 = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    in.foreachBatch(
        (rdd, batch) -> {
          rdd.collect();
          if (batch.id() == 1) {
            inBatch1.countDown();
            release.await(30, TimeUnit.SECONDS);
          }
        });
    h.ctx.start();
    elect(in);
    h.runBatches(1);
    h.clock.advance(Harness.INTERVAL);
    assertThat(inBatch1.await(10, TimeUnit.SECONDS)).isTrue();

    election.loseSilently();
    release.countDown();

    assertThatThrownBy(() -> h.ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOf(LeadershipLostException.class);
    assertThat(in.calls).containsExactly("start", "plan 0", "commit 0", "plan 1", "stop");
    assertThat(election.callbacks).hasSize(1);
  }

  @Test
  void stopWhileStandbyLeavesTheElectionAndTerminates() throws Exception {
    Harness h = harness();
    Numbers in = new Numbers(h.ctx);
    in.foreachBatch((rdd, batch) -> rdd.collect());
    h.ctx.start();
    await().atMost(Duration.ofSeconds(10)).until(election::waiting);

    h.ctx.stop(true);

    assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    assertThat(h.ctx.awaitTermination(Duration.ZERO)).isTrue();
    assertThat(election.closed()).isTrue();
    assertThat(in.calls).isEmpty();
    // Leadership won after the stop is ignored.
    election.elect();
    assertThat(in.calls).isEmpty();
  }

  @Test
  void gracefulStopOfTheLeaderCommitsThenGivesTheLeadershipUp() throws Exception {
    Harness h = harness();
    Numbers in = new Numbers(h.ctx);
    in.foreachBatch((rdd, batch) -> rdd.collect());
    h.ctx.start();
    elect(in);
    h.runBatches(1);

    h.ctx.stop(true);

    assertThat(h.ctx.awaitTermination(Duration.ZERO)).isTrue();
    assertThat(election.closed()).isTrue();
    assertThat(in.calls).containsExactly("start", "plan 0", "commit 0", "stop");
  }

  @Test
  void startFailureAfterTheElectionStopsTheContext() {
    Harness h = harness();
    Numbers in = new Numbers(h.ctx);
    in.writeTo(
        new BatchOutput<Long>() {
          @Override
          public void write(RDD<Long> rdd, Batch batch) {}

          @Override
          public DeliveryGuarantee guarantee() {
            return DeliveryGuarantee.AT_LEAST_ONCE;
          }

          @Override
          public void open(StreamingContext context) {
            throw new IllegalStateException("cannot reach the sink");
          }
        });
    h.ctx.start();
    await().atMost(Duration.ofSeconds(10)).until(election::waiting);
    election.elect();

    assertThatThrownBy(() -> h.ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("cannot reach the sink");
    assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    assertThat(election.closed()).isTrue();
    assertThat(in.calls).isEmpty();
  }
}
