package io.sluice.engine.receiver.internal;

import io.sluice.engine.internal.EngineThreads;
import io.sluice.engine.receiver.Receiver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code ctx.socketTextStream(host, port)}: connects to a TCP server and stores each UTF-8 line it
 * sends; restarts (reconnects after the back-off) when the connection fails or the server closes
 * it. At-most-once: lines in flight when the process dies are lost, since a socket cannot replay.
 */
public final class SocketTextReceiver extends Receiver<String> {

  private static final int CONNECT_TIMEOUT_MS = 10_000;

  private final String host;
  private final int port;
  private volatile Socket socket;

  /** A receiver of the lines sent by {@code host:port}. */
  public SocketTextReceiver(String host, int port) {
    this.host = host;
    this.port = port;
  }

  @Override
  public String describe() {
    return "socket " + host + ":" + port;
  }

  @Override
  public void onStart() {
    EngineThreads.newThread("sluice-socket-" + host + "-" + port, true, this::receive).start();
  }

  private void receive() {
    try (Socket s = new Socket()) {
      socket = s;
      s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line; !isStopped() && (line = in.readLine()) != null; ) {
        store(line);
      }
      if (!isStopped()) {
        restart("the server at " + host + ":" + port + " closed the connection");
      }
    } catch (IOException e) {
      if (!isStopped()) {
        restart("cannot read from " + host + ":" + port, e);
      }
    }
  }

  @Override
  public void onStop() {
    Socket s = socket;
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closing to end the reading thread; nothing else to do
      }
    }
  }
}
