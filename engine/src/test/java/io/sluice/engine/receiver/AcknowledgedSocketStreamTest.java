package io.sluice.engine.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Harness;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.receiver.internal.ReceiverInputDStream;
import io.sluice.engine.receiver.internal.SocketPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code socketTextStream(host, port, acknowledged)} end to end with the write-ahead log on a
 * manual clock: what was acknowledged is durable, and a reconnect counts from zero again.
 */
class AcknowledgedSocketStreamTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final SocketOptions ACKNOWLEDGED =
      SocketOptions.builder().acknowledged(true).maxBlockLines(2).build();

  @TempDir Path checkpoint;

  private Harness harness() {
    return new Harness(
        StreamingContext.builder()
            .appName("socket-acks")
            .batchInterval(Harness.INTERVAL)
            .parallelism(2)
            .blockInterval(Duration.ofMillis(20))
            .checkpointDir(checkpoint)
            .receiverWriteAheadLog(true));
  }

  @SuppressWarnings("unchecked")
  private static ReceiverInputDStream<String> input(DStream<String> s) {
    return (ReceiverInputDStream<String>) s;
  }

  @Test
  void acknowledgedLinesAreInTheLogAndReachTheFirstBatchAfterACrash() throws IOException {
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Harness first = harness();
      first.collect(first.ctx.socketTextStream("127.0.0.1", server.getLocalPort(), ACKNOWLEDGED));
      first.ctx.start();
      try (SocketPeer peer = SocketPeer.accept(server)) {
        peer.send("a0", "a1", "a2", "a3", "a4");
        await().atMost(WAIT).until(() -> peer.acks().contains(5L));
        assertThat(peer.acks()).containsExactly(2L, 4L, 5L);
        // No batch ran: the acknowledged lines are only in the receiver's blocks and its log.
        first.ctx.stop(false);
      }

      try (Harness second = harness()) {
        DStream<String> lines =
            second.ctx.socketTextStream("127.0.0.1", server.getLocalPort(), ACKNOWLEDGED);
        Map<Long, List<String>> seen = second.collect(lines);
        second.ctx.start();
        try (SocketPeer reconnected = SocketPeer.accept(server)) {
          assertThat(input(lines).unallocatedRecords()).isEqualTo(5);
          second.runBatches(1);
          assertThat(reconnected.acks()).isEmpty();
        }
        assertThat(seen.get(0L)).containsExactly("a0", "a1", "a2", "a3", "a4");
      }
    }
  }

  @Test
  void reconnectsAfterTheServerDropsAndAcknowledgesPerConnectionFromZero() throws IOException {
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Harness h = harness()) {
      DStream<String> lines =
          h.ctx.socketTextStream("127.0.0.1", server.getLocalPort(), ACKNOWLEDGED);
      Map<Long, List<String>> seen = h.collect(lines);
      h.ctx.start();
      try (SocketPeer first = SocketPeer.accept(server)) {
        first.send("l0", "l1", "l2");
        first.sendRaw("unfinish");
        await().atMost(WAIT).until(() -> first.acks().contains(3L));
        assertThat(first.acks()).containsExactly(2L, 3L);
      } // the server drops the connection: the unfinished line was never acknowledged
      try (SocketPeer second = SocketPeer.accept(server)) {
        second.send("unfinished", "l3");
        await().atMost(WAIT).until(() -> second.acks().contains(2L));
        assertThat(second.acks()).containsExactly(2L);
        h.runBatches(1);
      }
      assertThat(seen.get(0L)).containsExactly("l0", "l1", "l2", "unfinished", "l3");
      assertThat(input(lines).supervisor().restarts()).isEqualTo(1);
    }
  }

  @Test
  void optionsAreValidatedOnce() {
    assertThatThrownBy(() -> SocketOptions.builder().maxBlockLines(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxBlockLines must be >= 1, was 0");
    assertThat(SocketOptions.defaults().acknowledged()).isFalse();
    assertThat(SocketOptions.defaults().maxBlockLines())
        .isEqualTo(SocketOptions.DEFAULT_MAX_BLOCK_LINES);
  }
}
