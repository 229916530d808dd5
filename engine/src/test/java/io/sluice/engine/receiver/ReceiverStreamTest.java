package io.sluice.engine.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Harness;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.receiver.internal.ReceiverInputDStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Receivers end to end on a manual clock: blocks into batches, restarts, slots, the socket. */
class ReceiverStreamTest {

  /**
   * Stores what the test puts in its queue, one record at a time or as a block; fails on demand.
   */
  static final class QueueReceiver extends Receiver<String> {
    final BlockingQueue<Object> input = new LinkedBlockingQueue<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger failStarts = new AtomicInteger();
    private volatile Thread thread;

    @Override
    public void onStart() {
      calls.add("start");
      if (failStarts.getAndDecrement() > 0) {
        throw new IllegalStateException("cannot connect (test)");
      }
      thread =
          new Thread(
              () -> {
                try {
                  while (!isStopped()) {
                    Object next = input.poll(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (next instanceof String s) {
                      store(s);
                    } else if (next instanceof List<?> l) {
                      @SuppressWarnings("unchecked")
                      List<String> block = (List<String>) l;
                      store(block);
                    } else if (next instanceof RuntimeException e) {
                      restart("source failed (test)", e);
                    }
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "test-receiver");
      thread.start();
    }

    @Override
    public void onStop() {
      calls.add("stop");
    }
  }

  private static Harness harness(int parallelism) {
    return new Harness(
        StreamingContext.builder()
            .appName("receivers")
            .batchInterval(Harness.INTERVAL)
            .parallelism(parallelism)
            .blockInterval(Duration.ofMillis(20)));
  }

  @SuppressWarnings("unchecked")
  private static ReceiverInputDStream<String> input(DStream<String> s) {
    return (ReceiverInputDStream<String>) s;
  }

  @Test
  void eachBatchReadsTheBlocksStoredBeforeItExactlyOnce() {
    try (Harness h = harness(3)) {
      QueueReceiver r = new QueueReceiver();
      DStream<String> lines = h.ctx.receiverStream(r);
      Map<Long, List<String>> seen = h.collect(lines);
      h.ctx.start();
      for (int i = 0; i < 5; i++) {
        r.input.add("a" + i);
      }
      r.input.add(List.of("b0", "b1", "b2"));
      await().atMost(Duration.ofSeconds(10)).until(() -> countHeld(input(lines)) == 8);
      h.runBatches(1);
      r.input.add("c0");
      await().atMost(Duration.ofSeconds(10)).until(() -> countHeld(input(lines)) >= 1);
      h.runBatches(2);

      // Single records wait for the interval's cut; a stored list is a block at once.
      assertThat(seen.get(0L))
          .containsExactlyInAnyOrder("a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2");
      assertThat(seen.get(0L).stream().filter(x -> x.startsWith("a")))
          .containsExactly("a0", "a1", "a2", "a3", "a4");
      assertThat(seen.get(0L).stream().filter(x -> x.startsWith("b")))
          .containsExactly("b0", "b1", "b2");
      assertThat(seen.get(1L)).containsExactly("c0");
      assertThat(seen.get(2L)).isEmpty();
      assertThat(countHeld(input(lines))).isZero();
    }
  }

  /** Records held in blocks no batch took yet. */
  private static int countHeld(ReceiverInputDStream<String> in) {
    return in.unallocatedRecords();
  }

  @Test
  void aReceiverThatFailsIsRestartedAfterABackOffAndStoppedFirstOnAGracefulStop() {
    QueueReceiver r = new QueueReceiver();
    r.failStarts.set(1);
    Harness h = harness(2);
    DStream<String> lines = h.ctx.receiverStream(r);
    Map<Long, List<String>> seen = h.collect(lines);
    h.ctx.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.size() >= 3);
    assertThat(r.calls).startsWith("start", "stop", "start");
    r.input.add(new IllegalStateException("boom"));
    await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.size() >= 5);
    assertThat(input(lines).supervisor().restarts()).isEqualTo(2);
    r.input.add("after-restart");
    await().atMost(Duration.ofSeconds(10)).until(() -> countHeld(input(lines)) == 1);
    h.runBatches(1);
    assertThat(seen.get(0L)).containsExactly("after-restart");

    h.ctx.stop(true);
    assertThat(r.calls).last().isEqualTo("stop");
    assertThat(r.isStopped()).isTrue();
  }

  @Test
  void startRefusesAContextWithoutASlotLeftForTasks() {
    try (Harness h = harness(2)) {
      h.ctx.receiverStream(new QueueReceiver()).foreachRDD(rdd -> rdd.count());
      h.ctx.receiverStream(new QueueReceiver()).foreachRDD(rdd -> rdd.count());
      assertThatThrownBy(h.ctx::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("has 2 task slots, but its 2 receiver(s)")
          .hasMessageContaining("at least 3");
    }
  }

  @Test
  void socketTextStreamReadsLinesAndReconnectsWhenTheServerClosesTheConnection()
      throws IOException {
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Harness h = harness(2)) {
      DStream<String> lines = h.ctx.socketTextStream("127.0.0.1", server.getLocalPort());
      Map<Long, List<String>> seen = h.collect(lines);
      h.ctx.start();
      try (Socket first = server.accept()) {
        send(first, "one", "two");
        await().atMost(Duration.ofSeconds(10)).until(() -> countHeld(input(lines)) == 2);
      }
      try (Socket second = server.accept()) {
        send(second, "three");
        await().atMost(Duration.ofSeconds(10)).until(() -> countHeld(input(lines)) == 3);
      }
      h.runBatches(1);
      assertThat(seen.get(0L)).containsExactly("one", "two", "three");
      assertThat(input(lines).supervisor().restarts()).isGreaterThanOrEqualTo(1);
    }
  }

  private static void send(Socket s, String... lines) throws IOException {
    Writer w = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8);
    for (String line : lines) {
      w.write(line + "\n");
    }
    w.flush();
  }
}
