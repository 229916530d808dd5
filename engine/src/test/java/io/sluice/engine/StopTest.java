package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamingContext#stop(boolean)} returns, for every caller, only once the context has
 * terminated.
 */
class StopTest {

  /**
   * An output whose {@link #close()} waits for {@link #release}, holding the context in its stop.
   */
  private static final class SlowClosingOutput implements BatchOutput<Integer> {
    final CountDownLatch closing = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final boolean fail;

    SlowClosingOutput(boolean fail) {
      this.fail = fail;
    }

    @Override
    public void write(RDD<Integer> rdd, Batch batch) {
      rdd.count();
      if (fail) {
        throw new IllegalStateException("write failed");
      }
    }

    @Override
    public DeliveryGuarantee guarantee() {
      return DeliveryGuarantee.AT_LEAST_ONCE;
    }

    @Override
    public void close() throws InterruptedException {
      closing.countDown();
      if (!release.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("close was never released");
      }
    }
  }

  /**
   * A caller of stop on its own thread that records whether the context had terminated when stop
   * returned.
   */
  private static final class Stopper {
    final Thread thread;
    final AtomicReference<String> returned = new AtomicReference<>();

    Stopper(StreamingContext ctx, boolean graceful, String name) {
      thread =
          new Thread(
              () -> {
                ctx.stop(graceful);
                boolean terminated;
                try {
                  terminated = ctx.awaitTermination(Duration.ZERO);
                } catch (BatchFailedException e) {
                  terminated = true;
                } catch (InterruptedException e) {
                  throw new AssertionError(e);
                }
                returned.set(ctx.state() + (terminated ? " terminated" : " not terminated"));
              },
              name);
      thread.start();
    }

    /** Waits until the thread waits (in stop) or has returned. */
    void awaitBlockedOrDone() {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                Thread.State s = thread.getState();
                return s == Thread.State.WAITING
                    || s == Thread.State.TIMED_WAITING
                    || s == Thread.State.TERMINATED;
              });
    }
  }

  private static Harness harness(String app, SlowClosingOutput output) {
    Harness h =
        new Harness(
            StreamingContext.builder().appName(app).batchInterval(Harness.INTERVAL).parallelism(2));
    h.ctx
        .<Integer>queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1, 2, 3))))
        .writeTo(output);
    return h;
  }

  @Test
  void twoConcurrentStopsBothReturnOnlyOnceTheContextTerminated() throws Exception {
    SlowClosingOutput output = new SlowClosingOutput(false);
    Harness h = harness("two-stoppers", output);
    h.runBatches(1);

    Stopper first = new Stopper(h.ctx, true, "first-stopper");
    assertThat(output.closing.await(20, TimeUnit.SECONDS)).isTrue();
    Stopper second = new Stopper(h.ctx, false, "second-stopper");
    first.awaitBlockedOrDone();
    second.awaitBlockedOrDone();

    assertThat(first.thread.isAlive()).isTrue();
    assertThat(second.thread.isAlive()).isTrue();
    assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    assertThat(h.ctx.awaitTermination(Duration.ZERO)).isFalse();

    output.release.countDown();
    first.thread.join(20_000);
    second.thread.join(20_000);
    assertThat(first.returned).hasValue("STOPPED terminated");
    assertThat(second.returned).hasValue("STOPPED terminated");
  }

  @Test
  void stopRightAfterABatchFailureReturnsOnlyOnceTheContextTerminated() throws Exception {
    SlowClosingOutput output = new SlowClosingOutput(true);
    Harness h = harness("stop-after-failure", output);
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    // The failure began the stop, which now waits in the output's close.
    assertThat(output.closing.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(h.ctx.state()).isEqualTo(StreamingContext.State.STOPPED);

    Stopper stopper = new Stopper(h.ctx, false, "stopper");
    stopper.awaitBlockedOrDone();
    assertThat(stopper.thread.isAlive()).isTrue();
    assertThat(stopper.returned).hasNullValue();

    output.release.countDown();
    stopper.thread.join(20_000);
    assertThat(stopper.returned).hasValue("STOPPED terminated");
    assertThatThrownBy(h.ctx::awaitTermination)
        .isInstanceOf(BatchFailedException.class)
        .hasRootCauseMessage("write failed");
  }

  @Test
  void stopLongerThanTheStopTimeoutThrowsAndTheStopGoesOn() throws Exception {
    SlowClosingOutput output = new SlowClosingOutput(false);
    Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("stop-timeout")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .stopTimeout(Duration.ofMillis(200)));
    h.ctx
        .<Integer>queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1))))
        .writeTo(output);
    h.runBatches(1);

    assertThatThrownBy(() -> h.ctx.stop(false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "context 'stop-timeout' did not stop within the stop timeout of PT0.2S")
        .hasMessageContaining("still closing the outputs")
        .hasMessageContaining("awaitTermination()");
    assertThat(h.ctx.awaitTermination(Duration.ZERO)).isFalse();

    output.release.countDown();
    assertThat(h.ctx.awaitTermination(Duration.ofSeconds(20))).isTrue();
    h.ctx.stop(false);
  }

  @Test
  void stopTimeoutMustBePositive() {
    StreamingContext.Builder b =
        StreamingContext.builder().appName("a").batchInterval(Duration.ofSeconds(1));
    assertThatThrownBy(() -> b.stopTimeout(Duration.ZERO).build())
        .hasMessage("stopTimeout must be > 0, was PT0S");
    assertThatThrownBy(() -> b.stopTimeout(null).build())
        .hasMessage("stopTimeout must be > 0, was null");
    assertThat(
            StreamingContext.builder()
                .appName("a")
                .batchInterval(Duration.ofSeconds(1))
                .build()
                .stopTimeout())
        .isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void listenerCallingStopDoesNotWaitForItself() throws Exception {
    Harness h = new Harness(2);
    CountDownLatch stopReturned = new CountDownLatch(1);
    h.ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            h.ctx.stop(true);
            stopReturned.countDown();
          }
        });
    h.ctx
        .queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1))))
        .foreachBatch((rdd, b) -> rdd.count());
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    assertThat(stopReturned.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(h.ctx.awaitTermination(Duration.ofSeconds(20))).isTrue();
  }
}
