package io.sluice.engine.receiver.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.receiver.SocketOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The socket receiver against a store the test controls: acknowledgements follow stores, count
 * every line of the connection, and a failed store is never acknowledged.
 */
class SocketTextReceiverTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private ServerSocket server;
  private SocketTextReceiver receiver;
  private final ControlledStore store = new ControlledStore();

  /** A receiver's engine side whose block stores the test can hold or fail. */
  static final class ControlledStore implements ReceiverContext<String> {
    final List<List<String>> storing = new CopyOnWriteArrayList<>();
    final List<List<String>> blocks = new CopyOnWriteArrayList<>();
    final List<String> records = new CopyOnWriteArrayList<>();
    final List<String> restarts = new CopyOnWriteArrayList<>();
    final List<Throwable> restartErrors = new CopyOnWriteArrayList<>();
    volatile Semaphore gate;
    volatile RuntimeException failure;
    volatile boolean stopped;

    @Override
    public void storeRecord(String record) {
      records.add(record);
    }

    @Override
    public void storeBlock(List<String> block, Map<String, String> marks) {
      storing.add(block);
      Semaphore g = gate;
      if (g != null) {
        g.acquireUninterruptibly();
      }
      RuntimeException f = failure;
      if (f != null) {
        throw f;
      }
      blocks.add(block);
    }

    @Override
    public Map<String, String> storedMarks() {
      return Map.of();
    }

    @Override
    public void restart(String message, Throwable error) {
      restarts.add(message);
      if (error != null) {
        restartErrors.add(error);
      }
    }

    @Override
    public void reportError(String message, Throwable error) {}

    @Override
    public boolean isStopped() {
      return stopped;
    }

    List<String> storedLines() {
      List<String> all = new ArrayList<>();
      blocks.forEach(all::addAll);
      return all;
    }
  }

  @BeforeEach
  void listen() throws IOException {
    server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void close() throws IOException {
    store.stopped = true;
    Semaphore g = store.gate;
    if (g != null) {
      g.release(1_000);
    }
    if (receiver != null) {
      receiver.onStop();
    }
    server.close();
  }

  private SocketPeer start(SocketOptions options, Duration blockInterval) throws IOException {
    receiver = new SocketTextReceiver("127.0.0.1", server.getLocalPort(), options, blockInterval);
    ReceiverContext.attach(receiver, store);
    receiver.onStart();
    return SocketPeer.accept(server);
  }

  private static SocketOptions acknowledged(int maxBlockLines) {
    return SocketOptions.builder().acknowledged(true).maxBlockLines(maxBlockLines).build();
  }

  @Test
  void acknowledgesABlockOnlyAfterItsStoreReturned() throws IOException {
    store.gate = new Semaphore(0);
    try (SocketPeer peer = start(acknowledged(1_000), Duration.ofMillis(20))) {
      peer.send("l0", "l1", "l2");
      await().atMost(WAIT).until(() -> store.storing.size() == 1);
      assertThat(store.storing.get(0)).containsExactly("l0", "l1", "l2");

      // The store is held: no acknowledgement may reach the sender meanwhile.
      await()
          .during(Duration.ofMillis(300))
          .atMost(Duration.ofSeconds(2))
          .until(() -> peer.acks().isEmpty());

      store.gate.release();
      await().atMost(WAIT).until(() -> !peer.acks().isEmpty());
      assertThat(peer.acks()).containsExactly(3L);
      assertThat(store.blocks).containsExactly(List.of("l0", "l1", "l2"));
      assertThat(peer.unexpected()).isEmpty();
    }
  }

  @Test
  void acknowledgementsCountEveryLineStoredOnTheConnectionSoFar() throws IOException {
    try (SocketPeer peer = start(acknowledged(4), Duration.ofMillis(100))) {
      List<String> first = lines(0, 10);
      peer.send(first.toArray(String[]::new));
      await().atMost(WAIT).until(() -> last(peer.acks()) == 10);
      List<String> second = lines(10, 13);
      peer.send(second.toArray(String[]::new));
      await().atMost(WAIT).until(() -> last(peer.acks()) == 13);

      // Each acknowledgement is the running total of the lines stored, block by block.
      List<Long> totals = new ArrayList<>();
      long sum = 0;
      for (List<String> block : store.blocks) {
        assertThat(block).hasSizeBetween(1, 4);
        sum += block.size();
        totals.add(sum);
      }
      assertThat(peer.acks()).isEqualTo(totals);
      // Full blocks are cut at once, the rest one block interval after its first line.
      assertThat(peer.acks()).startsWith(4L, 8L);
      List<String> all = new ArrayList<>(first);
      all.addAll(second);
      assertThat(store.storedLines()).containsExactlyElementsOf(all);
      assertThat(store.records).isEmpty();
      assertThat(store.restarts).isEmpty();
    }
  }

  @Test
  void aBlockThatFailsToStoreIsNotAcknowledgedAndTheReceiverRestarts()
      throws IOException, InterruptedException {
    store.failure = new IllegalStateException("log disk full (test)");
    try (SocketPeer peer = start(acknowledged(2), Duration.ofMillis(20))) {
      peer.send("a", "b", "c");
      assertThat(peer.awaitEnd(10)).as("the receiver closed the connection").isTrue();
      assertThat(peer.acks()).isEmpty();
      assertThat(store.blocks).isEmpty();
      assertThat(store.storing).containsExactly(List.of("a", "b"));
      await().atMost(WAIT).until(() -> !store.restarts.isEmpty());
      assertThat(store.restarts).hasSize(1);
      assertThat(store.restartErrors).singleElement().isSameAs(store.failure);
    }
  }

  @Test
  void anUnfinishedLastLineIsDroppedWhenAcknowledgedAndStoredOtherwise()
      throws IOException, InterruptedException {
    try (SocketPeer peer = start(acknowledged(1_000), Duration.ofSeconds(30))) {
      peer.sendRaw("a\r\nb\rc\nfragm");
      peer.shutdownOutput();
      // The open block is stored and acknowledged at the end of the stream, without the fragment.
      assertThat(peer.awaitEnd(10)).isTrue();
      assertThat(peer.acks()).containsExactly(3L);
      assertThat(store.storedLines()).containsExactly("a", "b", "c");
      await().atMost(WAIT).until(() -> store.restarts.size() == 1);
      assertThat(store.restarts.get(0)).contains("closed the connection");
    }
    receiver.onStop();

    ControlledStore plain = new ControlledStore();
    SocketTextReceiver unacknowledged = new SocketTextReceiver("127.0.0.1", server.getLocalPort());
    ReceiverContext.attach(unacknowledged, plain);
    unacknowledged.onStart();
    try (SocketPeer peer = SocketPeer.accept(server)) {
      peer.sendRaw("x\ny");
      peer.shutdownOutput();
      assertThat(peer.awaitEnd(10)).isTrue();
      await().atMost(WAIT).until(() -> plain.restarts.size() == 1);
      assertThat(plain.records).containsExactly("x", "y");
      assertThat(plain.blocks).isEmpty();
      assertThat(peer.acks()).isEmpty();
    } finally {
      plain.stopped = true;
      unacknowledged.onStop();
    }
  }

  @Test
  void aStoppedReceiverNeitherStoresItsOpenBlockNorAsksForARestart()
      throws IOException, InterruptedException {
    try (SocketPeer peer = start(acknowledged(1_000), Duration.ofSeconds(30))) {
      peer.send("p0", "p1");
      await()
          .during(Duration.ofMillis(200))
          .atMost(Duration.ofSeconds(2))
          .until(() -> store.storing.isEmpty());
      store.stopped = true;
      receiver.onStop();
      assertThat(peer.awaitEnd(10)).isTrue();
      await()
          .during(Duration.ofMillis(200))
          .atMost(Duration.ofSeconds(2))
          .until(() -> store.restarts.isEmpty() && store.storing.isEmpty());
      assertThat(peer.acks()).isEmpty();
    }
  }

  private static List<String> lines(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> "line-" + i).toList();
  }

  private static long last(List<Long> acks) {
    return acks.isEmpty() ? 0 : acks.get(acks.size() - 1);
  }
}
