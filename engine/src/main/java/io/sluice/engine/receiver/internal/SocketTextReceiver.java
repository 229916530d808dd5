package io.sluice.engine.receiver.internal;

import io.sluice.engine.internal.EngineThreads;
import io.sluice.engine.receiver.Receiver;
import io.sluice.engine.receiver.SocketOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ctx.socketTextStream(host, port[, options])}: connects to a TCP server and stores each
 * UTF-8 line it sends; restarts (reconnects after the back-off) when the connection fails or the
 * server closes it. Unacknowledged (the default), each line is stored as a single record:
 * at-most-once, since a socket cannot replay. Acknowledged, lines are stored as blocks and each
 * stored block is acknowledged with {@code ACK <lines stored on this connection>}; see {@link
 * SocketOptions} for the protocol.
 *
 * <p>Threads: one reading thread per connection ({@code sluice-socket-<host>-<port>}), which also
 * stores and acknowledges; {@link #onStart()}/{@link #onStop()} on the engine's thread. A
 * connection's thread ends when {@link #onStop()} closes its socket; a thread whose connection was
 * replaced by a restart neither stores again nor asks for another restart.
 */
public final class SocketTextReceiver extends Receiver<String> {

  private static final int CONNECT_TIMEOUT_MS = 10_000;
  private static final int READ_BUFFER_BYTES = 64 * 1024;
  private static final int MAX_LINE_BYTES = 16 * 1024 * 1024;

  private final String host;
  private final int port;
  private final SocketOptions options;
  private final Duration blockInterval;
  private final AtomicReference<Socket> current = new AtomicReference<>();

  /** An unacknowledged receiver of the lines sent by {@code host:port}. */
  public SocketTextReceiver(String host, int port) {
    this(host, port, SocketOptions.defaults(), Duration.ofMillis(200));
  }

  /**
   * A receiver of the lines sent by {@code host:port}; in the acknowledged mode a block is cut at
   * the latest {@code blockInterval} after its first line.
   */
  public SocketTextReceiver(String host, int port, SocketOptions options, Duration blockInterval) {
    this.host = host;
    this.port = port;
    this.options = options;
    this.blockInterval = blockInterval;
  }

  @Override
  public String describe() {
    return "socket " + host + ":" + port + (options.acknowledged() ? " (acknowledged)" : "");
  }

  @Override
  public void onStart() {
    Socket s = new Socket();
    current.set(s);
    EngineThreads.newThread("sluice-socket-" + host + "-" + port, true, () -> receive(s)).start();
  }

  @Override
  public void onStop() {
    Socket s = current.getAndSet(null);
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closing to end the reading thread; nothing else to do
      }
    }
  }

  /** Whether the connection over {@code s} must end: the receiver stopped or restarted since. */
  private boolean ended(Socket s) {
    return isStopped() || current.get() != s;
  }

  private void receive(Socket s) {
    String reason;
    Exception error = null;
    try (s) {
      s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
      // Acknowledgements are small writes the sender waits for: no Nagle delay.
      s.setTcpNoDelay(true);
      new Connection(s).read();
      reason = "the server at " + host + ":" + port + " closed the connection";
    } catch (IOException | RuntimeException e) {
      reason = "the connection to " + host + ":" + port + " failed";
      error = e;
    }
    if (!ended(s)) {
      restart(reason, error);
    }
  }

  /** One connection's reading, storing and acknowledging; its reading thread only. */
  private final class Connection implements LineSplitter.LineSink {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final List<String> block = new ArrayList<>();
    private long blockDueNanos;
    private long stored;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    /** Reads until the server closes the connection (returns) or it fails (throws). */
    void read() throws IOException {
      LineSplitter lines = new LineSplitter(MAX_LINE_BYTES);
      byte[] buffer = new byte[READ_BUFFER_BYTES];
      while (!ended(socket)) {
        if (!block.isEmpty() && System.nanoTime() - blockDueNanos >= 0) {
          storeBlock();
          continue;
        }
        // A read times out when the open block is due; a timed-out read loses no bytes.
        socket.setSoTimeout(block.isEmpty() ? 0 : millisUntilDue());
        int n;
        try {
          n = in.read(buffer);
        } catch (SocketTimeoutException e) {
          continue;
        }
        if (n < 0) {
          endOfStream(lines);
          return;
        }
        lines.feed(buffer, 0, n, this);
      }
    }

    private int millisUntilDue() {
      long left = TimeUnit.NANOSECONDS.toMillis(blockDueNanos - System.nanoTime() + 999_999);
      return (int) Math.max(1, Math.min(Integer.MAX_VALUE, left));
    }

    @Override
    public void line(String line) throws IOException {
      if (!options.acknowledged()) {
        store(line);
        return;
      }
      if (block.isEmpty()) {
        blockDueNanos = System.nanoTime() + blockInterval.toNanos();
      }
      block.add(line);
      if (block.size() >= options.maxBlockLines()) {
        storeBlock();
      }
    }

    /**
     * Stores the open block, then acknowledges every line stored on this connection. Nothing is
     * stored once the connection must end: the sender resends what was not acknowledged.
     */
    private void storeBlock() throws IOException {
      if (ended(socket)) {
        throw new SocketException("the receiver is stopping; the open block is not stored");
      }
      store(block);
      stored += block.size();
      block.clear();
      out.write(("ACK " + stored + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    /**
     * The server closed its side: an acknowledged connection stores (and acknowledges) its open
     * block but drops an unfinished last line, which may be a fragment of a line the sender could
     * not finish; an unacknowledged one stores that line too.
     */
    private void endOfStream(LineSplitter lines) throws IOException {
      if (!options.acknowledged()) {
        if (lines.hasPartialLine()) {
          store(lines.takePartialLine());
        }
        return;
      }
      if (!block.isEmpty()) {
        storeBlock();
      }
    }
  }
}
