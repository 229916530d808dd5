package io.sluice.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingListener;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ListenerBusTest {

  private static BatchInfo batch(long id) {
    return new BatchInfo(id, Instant.EPOCH, 0, Instant.EPOCH, Optional.empty(), Optional.empty());
  }

  /** Records every batch id it is told about; blocks in batch 0 until released. */
  private static final class BlockingListener implements StreamingListener {
    final List<Long> seen = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final CountDownLatch inFirst = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void onBatchCompleted(BatchInfo b) {
      threads.add(Thread.currentThread().getName());
      if (b.batchId() == 0) {
        inFirst.countDown();
        try {
          if (!release.await(20, TimeUnit.SECONDS)) {
            throw new AssertionError("never released");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      seen.add(b.batchId());
    }
  }

  private static void post(ListenerBus bus, long id) {
    BatchInfo b = batch(id);
    bus.post(l -> l.onBatchCompleted(b));
  }

  @Test
  void eventsBeyondTheCapacityAreDroppedAndCountedWhileAListenerBlocks() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Counter dropped = registry.counter("sluice.listener.events.dropped");
    ListenerBus bus = new ListenerBus("tiny", 2, dropped);
    BlockingListener listener = new BlockingListener();
    bus.add(listener);
    bus.start();

    post(bus, 0);
    assertThat(listener.inFirst.await(20, TimeUnit.SECONDS)).isTrue();
    // Batch 0 is being delivered: two events may wait, the next three are dropped; post never
    // blocks.
    for (long id = 1; id <= 5; id++) {
      post(bus, id);
    }
    assertThat(dropped.count()).isEqualTo(3.0);
    assertThat(bus.queued()).isEqualTo(2);

    listener.release.countDown();
    assertThat(bus.stop(Duration.ofSeconds(20))).isTrue();
    assertThat(listener.seen).containsExactly(0L, 1L, 2L);
    assertThat(listener.threads).containsOnly("sluice-listener-bus");
    assertThat(dropped.count()).isEqualTo(3.0);
  }

  @Test
  void stopDeliversEveryQueuedEventInPostingOrderThenIgnoresNewOnes() {
    Counter dropped = new SimpleMeterRegistry().counter("dropped");
    ListenerBus bus = new ListenerBus("drain", 100, dropped);
    BlockingListener listener = new BlockingListener();
    List<Long> second = new CopyOnWriteArrayList<>();
    bus.add(listener);
    bus.add(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo b) {
            second.add(b.batchId());
            throw new IllegalStateException("a failing listener is logged and ignored");
          }
        });
    bus.start();
    for (long id = 0; id < 50; id++) {
      post(bus, id);
    }
    listener.release.countDown();

    assertThat(bus.stop(Duration.ofSeconds(20))).isTrue();
    List<Long> all = java.util.stream.LongStream.range(0, 50).boxed().toList();
    assertThat(listener.seen).containsExactlyElementsOf(all);
    assertThat(second).containsExactlyElementsOf(all);

    post(bus, 50);
    assertThat(bus.stop(Duration.ofSeconds(1))).isTrue();
    assertThat(listener.seen).hasSize(50);
    assertThat(dropped.count()).isZero();
  }

  @Test
  void stopGivesUpOnABlockedListenerAfterTheTimeout() {
    ListenerBus bus = new ListenerBus("stuck", 10, new SimpleMeterRegistry().counter("dropped"));
    BlockingListener listener = new BlockingListener();
    bus.add(listener);
    bus.start();
    post(bus, 0);
    post(bus, 1);

    assertThat(bus.stop(Duration.ofMillis(100))).isFalse();
    // The interrupt ended the blocked call; the thread then ends without delivering batch 1.
    assertThat(listener.seen).doesNotContain(1L);
  }

  @Test
  void capacityMustBePositive() {
    assertThatThrownBy(() -> new ListenerBus("x", 0, new SimpleMeterRegistry().counter("d")))
        .hasMessage("capacity must be > 0, was 0");
  }
}
