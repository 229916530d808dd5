package io.sluice.it.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The sender of the acknowledged socket protocol, for {@link SocketKillRestartTest}: a TCP server
 * on 127.0.0.1 that offers lines {@code line-0 .. line-<total-1>} at a steady rate (from the first
 * connection on) and keeps each until it is acknowledged. One connection at a time: a new one ends
 * the previous one first. On a connection it sends every line after the last acknowledged one, then
 * the new lines as they become due, and reads the receiver's cumulative {@code ACK <n>} lines (n
 * lines of this connection are durable). When a connection ends, the lines it sent but that were
 * not acknowledged are recorded as a {@link Window}: the only lines the receiver may store twice.
 * Protocol violations (an acknowledgement that is malformed, not increasing, or counts more lines
 * than were sent) are recorded, not thrown.
 *
 * <p>Threads: {@code line-server-accept}; {@code line-server-send} writes to the current connection
 * every few milliseconds; one {@code line-server-acks-<id>} per connection reads its
 * acknowledgements. Shared state is guarded by {@code lock}.
 */
final class LineServer implements AutoCloseable {

  /** Lines {@code [from, until)} sent on connection {@code connection} and never acknowledged. */
  record Window(int connection, long from, long until) {
    long size() {
      return until - from;
    }

    boolean contains(long n) {
      return n >= from && n < until;
    }
  }

  private static final int MAX_LINES_PER_WRITE = 5_000;

  private final ServerSocket server;
  private final long total;
  private final long linesPerSecond;
  private final Object lock = new Object();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService sender;
  private final Thread acceptor;
  private long startNanos = -1; // guarded by lock
  private long ackedUpTo; // guarded by lock
  private long acknowledgements; // guarded by lock
  private int connections; // guarded by lock
  private Connection current; // guarded by lock
  private final List<Window> windows = new ArrayList<>(); // guarded by lock
  private volatile boolean closed;

  /** Listens on an ephemeral port of 127.0.0.1 and offers {@code total} lines. */
  LineServer(long total, long linesPerSecond) {
    this.total = total;
    this.linesPerSecond = linesPerSecond;
    try {
      this.server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    acceptor = new Thread(this::acceptLoop, "line-server-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    sender =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "line-server-send");
              t.setDaemon(true);
              return t;
            });
    sender.scheduleWithFixedDelay(this::sendDue, 5, 5, TimeUnit.MILLISECONDS);
  }

  int port() {
    return server.getLocalPort();
  }

  /** Lines {@code [0, ackedUpTo)} are acknowledged (durable on the receiver's side). */
  long ackedUpTo() {
    synchronized (lock) {
      return ackedUpTo;
    }
  }

  /** Acknowledgements received so far, on every connection. */
  long acknowledgements() {
    synchronized (lock) {
      return acknowledgements;
    }
  }

  /**
   * Waits until more than {@code count} acknowledgements were received, or {@code timeout} passed;
   * returns at once when one arrives, so a kill can follow an acknowledgement within a millisecond.
   */
  boolean awaitAcknowledgementAfter(long count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      long left;
      while (acknowledgements <= count && (left = deadline - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return acknowledgements > count;
    }
  }

  /** Connections accepted so far. */
  int connections() {
    synchronized (lock) {
      return connections;
    }
  }

  /** Acknowledgements received on connections accepted after the {@code after}-th. */
  boolean acknowledgedSince(int after) {
    synchronized (lock) {
      return current != null && current.id > after && current.acked > 0;
    }
  }

  /** Whether no connection is open (the last one ended and its window is recorded). */
  boolean idle() {
    synchronized (lock) {
      return current == null;
    }
  }

  /** The unacknowledged windows of every ended connection, in order. */
  List<Window> windows() {
    synchronized (lock) {
      return List.copyOf(windows);
    }
  }

  List<String> violations() {
    return List.copyOf(violations);
  }

  private long due() {
    if (startNanos < 0) {
      return 0;
    }
    long elapsed = System.nanoTime() - startNanos;
    return Math.min(total, elapsed * linesPerSecond / 1_000_000_000L);
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!closed) {
          violations.add("accept failed: " + e);
        }
        return;
      }
      Connection previous;
      synchronized (lock) {
        previous = current;
      }
      if (previous != null) {
        previous.endAndWait();
      }
      Connection c;
      synchronized (lock) {
        if (startNanos < 0) {
          startNanos = System.nanoTime();
        }
        c = new Connection(++connections, s, ackedUpTo);
        current = c;
      }
      c.start();
    }
  }

  /** Sends what is due on the current connection; the sender thread. */
  private void sendDue() {
    Connection c;
    long from;
    long until;
    synchronized (lock) {
      c = current;
      if (c == null || c.ended) {
        return;
      }
      from = c.sent;
      until = Math.min(due(), from + MAX_LINES_PER_WRITE);
      if (until <= from) {
        return;
      }
      // Counted as sent before the write: a window may hold lines that never arrived, never less.
      c.sent = until;
    }
    StringBuilder b = new StringBuilder();
    for (long n = from; n < until; n++) {
      b.append("line-").append(n).append('\n');
    }
    try {
      c.out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
      c.out.flush();
    } catch (IOException e) {
      c.close(); // the reader sees the end and records the window
    }
  }

  @Override
  public void close() {
    closed = true;
    sender.shutdownNow();
    try {
      server.close();
    } catch (IOException e) {
      // closing
    }
    Connection c;
    synchronized (lock) {
      c = current;
    }
    if (c != null) {
      c.endAndWait();
    }
  }

  /** One accepted connection; its fields are guarded by the server's lock. */
  private final class Connection {
    final int id;
    final Socket socket;
    final OutputStream out;
    final long start;
    final Thread reader;
    long sent;
    long acked;
    boolean ended;

    Connection(int id, Socket socket, long start) {
      this.id = id;
      this.socket = socket;
      this.start = start;
      this.sent = start;
      try {
        socket.setTcpNoDelay(true);
        this.out = socket.getOutputStream();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      this.reader = new Thread(this::readAcks, "line-server-acks-" + id);
      reader.setDaemon(true);
    }

    void start() {
      reader.start();
    }

    /** Reads {@code ACK <n>} lines; only complete lines count (a kill may cut one short). */
    private void readAcks() {
      StringBuilder line = new StringBuilder();
      byte[] buffer = new byte[4096];
      try (InputStream in = socket.getInputStream()) {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          for (int i = 0; i < n; i++) {
            if (buffer[i] == '\n') {
              acknowledged(line.toString());
              line.setLength(0);
            } else {
              line.append((char) buffer[i]);
            }
          }
        }
      } catch (IOException e) {
        // reset by the killed peer, or closed here
      } finally {
        ended();
      }
    }

    private void acknowledged(String line) {
      if (!line.matches("ACK \\d{1,18}")) {
        violations.add("connection " + id + ": not an acknowledgement: '" + line + "'");
        return;
      }
      long k = Long.parseLong(line.substring(4));
      synchronized (lock) {
        if (k <= acked) {
          violations.add("connection " + id + ": ACK " + k + " after ACK " + acked);
        } else if (start + k > sent) {
          violations.add(
              "connection " + id + ": ACK " + k + " but only " + (sent - start) + " lines sent");
        } else {
          acked = k;
          ackedUpTo = Math.max(ackedUpTo, start + k);
          acknowledgements++;
          lock.notifyAll();
        }
      }
    }

    private void ended() {
      synchronized (lock) {
        ended = true;
        if (sent > start + acked) {
          windows.add(new Window(id, start + acked, sent));
        }
        if (current == this) {
          current = null;
        }
        lock.notifyAll();
      }
      close();
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // closing
      }
    }

    /** Gives the reader a moment to take the last acknowledgements, then closes and waits. */
    void endAndWait() {
      try {
        reader.join(2_000);
        close();
        reader.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
