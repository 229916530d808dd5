package io.sluice.engine.receiver.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The sender's end of one accepted connection of a socket receiver: writes lines and collects the
 * {@code ACK <n>} lines the receiver writes back (on a thread of its own, until end of stream).
 */
public final class SocketPeer implements AutoCloseable {

  private final Socket socket;
  private final OutputStream out;
  private final List<Long> acks = new CopyOnWriteArrayList<>();
  private final List<String> unexpected = new CopyOnWriteArrayList<>();
  private final CountDownLatch ended = new CountDownLatch(1);

  private SocketPeer(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    Thread reader = new Thread(this::readAcks, "test-socket-peer-acks");
    reader.setDaemon(true);
    reader.start();
  }

  /** Accepts the next connection of {@code server}. */
  public static SocketPeer accept(ServerSocket server) throws IOException {
    server.setSoTimeout(20_000);
    return new SocketPeer(server.accept());
  }

  private void readAcks() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("ACK ")) {
          acks.add(Long.parseLong(line.substring(4)));
        } else {
          unexpected.add(line);
        }
      }
    } catch (IOException e) {
      // the connection ended
    } finally {
      ended.countDown();
    }
  }

  /** Writes each line with a {@code \n}, in one write. */
  public SocketPeer send(String... lines) {
    StringBuilder b = new StringBuilder();
    for (String line : lines) {
      b.append(line).append('\n');
    }
    return sendRaw(b.toString());
  }

  /** Writes {@code text} as it is. */
  public SocketPeer sendRaw(String text) {
    try {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Closes the sending side only: the receiver sees the end of the stream, acks still arrive. */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** The acknowledged counts received so far, in order. */
  public List<Long> acks() {
    return List.copyOf(acks);
  }

  /** Lines the receiver wrote that are not acknowledgements. */
  public List<String> unexpected() {
    return List.copyOf(unexpected);
  }

  /** Whether the receiver closed its side. */
  public boolean ended() {
    return ended.getCount() == 0;
  }

  /** Waits until the receiver closed its side. */
  public boolean awaitEnd(long seconds) throws InterruptedException {
    return ended.await(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
