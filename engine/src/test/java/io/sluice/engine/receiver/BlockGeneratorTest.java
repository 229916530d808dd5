package io.sluice.engine.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.receiver.internal.BlockGenerator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BlockGeneratorTest {

  private final List<List<Integer>> stored = new CopyOnWriteArrayList<>();

  @Test
  void recordsAreCutIntoBlocksByTheIntervalAndBySize() throws Exception {
    BlockGenerator<Integer> g = new BlockGenerator<>(10, 3, stored::add);
    g.add(1);
    g.add(2);
    g.cut(); // the interval's cut
    g.cut(); // nothing buffered: no empty block
    for (int i = 3; i <= 9; i++) {
      g.add(i); // cut at 3 records
    }
    while (g.queued() > 0) {
      g.pushNext();
    }
    assertThat(stored).containsExactly(List.of(1, 2), List.of(3, 4, 5), List.of(6, 7, 8));
    g.stop();
    assertThatThrownBy(() -> g.add(10)).isInstanceOf(IllegalStateException.class);
    assertThat(g.pushNext()).as("stopped and nothing queued: the pusher ends").isFalse();
    g.drain();
    assertThat(stored).last().isEqualTo(List.of(9));
  }

  @Test
  void aStopLetsThePusherStoreEveryQueuedBlockWithoutInterruptingIt() throws Exception {
    BlockGenerator<Integer> g = new BlockGenerator<>(10, 2, stored::add);
    for (int i = 0; i < 7; i++) {
      g.add(i);
    }
    g.stop(); // record 6 is buffered; blocks [0,1] [2,3] [4,5] are queued
    int pushed = 0;
    while (g.pushNext()) {
      pushed++;
    }
    assertThat(pushed).isEqualTo(3);
    g.drain();
    assertThat(stored).containsExactly(List.of(0, 1), List.of(2, 3), List.of(4, 5), List.of(6));
  }

  @Test
  void addBlocksWhileTheQueueIsFullUntilABlockIsStored() throws Exception {
    BlockGenerator<Integer> g = new BlockGenerator<>(1, 1, stored::add);
    g.add(1); // fills the one-block queue
    AtomicInteger added = new AtomicInteger();
    Thread source =
        new Thread(
            () -> {
              try {
                g.add(2);
                added.incrementAndGet();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    source.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> source.getState() == Thread.State.WAITING);
      assertThat(added).hasValue(0);
      g.pushNext(); // the engine catches up
      await().atMost(Duration.ofSeconds(10)).until(() -> added.get() == 1);
      g.pushNext();
      assertThat(stored).containsExactly(List.of(1), List.of(2));
    } finally {
      source.interrupt();
      source.join();
    }
  }
}
