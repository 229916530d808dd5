package io.sluice.testkit;

import io.sluice.testkit.internal.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A real standalone ZooKeeper server inside this JVM, listening on 127.0.0.1 on a free port, with
 * its snapshots and transaction log in a temporary directory that {@link #close()} deletes. The
 * admin HTTP server is disabled.
 *
 * <pre>{@code
 * try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.startNew()) {
 *     CuratorFramework curator = CuratorFrameworkFactory.newClient(zk.connectString(), retryPolicy);
 * }
 * }</pre>
 *
 * <p>Lifecycle methods are synchronized. Tests that share one instance must use unique znode paths.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

  private static final int TICK_MILLIS = 500;
  private static final int MAX_CLIENT_CONNECTIONS = 200;

  private enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  private State state = State.NEW;
  private Path dir;
  private ZooKeeperServer server;
  private ServerCnxnFactory connections;

  /** An instance that is not started yet; see {@link #start()}. */
  public EmbeddedZooKeeper() {}

  /** Creates and starts a server; blocks until it accepts connections (about 0.5 s). */
  public static EmbeddedZooKeeper startNew() {
    return new EmbeddedZooKeeper().start();
  }

  /**
   * Starts the server and blocks until it accepts connections. Idempotent while running.
   *
   * @return this instance
   * @throws IllegalStateException if already closed
   * @throws UncheckedIOException if the server cannot bind or write its directory
   */
  public synchronized EmbeddedZooKeeper start() {
    if (state == State.RUNNING) {
      return this;
    }
    if (state == State.CLOSED) {
      throw new IllegalStateException("EmbeddedZooKeeper is closed and cannot be started again");
    }
    if (System.getProperty("zookeeper.admin.enableServer") == null) {
      // The admin server would bind 0.0.0.0:8080 when ZooKeeper's own launcher is used.
      System.setProperty("zookeeper.admin.enableServer", "false");
    }
    dir = TempDirs.create("sluice-zookeeper-");
    try {
      server =
          new ZooKeeperServer(
              dir.resolve("snapshots").toFile(), dir.resolve("log").toFile(), TICK_MILLIS);
      connections =
          ServerCnxnFactory.createFactory(
              new InetSocketAddress("127.0.0.1", 0), MAX_CLIENT_CONNECTIONS);
      connections.startup(server);
    } catch (IOException e) {
      stop();
      throw new UncheckedIOException("cannot start ZooKeeper in " + dir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop();
      throw new IllegalStateException("interrupted while starting ZooKeeper", e);
    } catch (RuntimeException | Error e) {
      stop();
      throw e;
    }
    state = State.RUNNING;
    return this;
  }

  /**
   * The connect string, {@code 127.0.0.1:port}.
   *
   * @throws IllegalStateException if not running
   */
  public synchronized String connectString() {
    if (state != State.RUNNING) {
      throw new IllegalStateException("EmbeddedZooKeeper is not running (state " + state + ")");
    }
    return "127.0.0.1:" + connections.getLocalPort();
  }

  /** Stops the server, closes its client connections and deletes its directory. Idempotent. */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    stop();
  }

  /** The data directory, for the testkit's own tests; null before start. */
  synchronized Path directory() {
    return dir;
  }

  private void stop() {
    try {
      if (connections != null) {
        connections.shutdown();
      }
      if (server != null) {
        // fullyShutDown also closes the transaction log files.
        server.shutdown(true);
      }
    } finally {
      connections = null;
      server = null;
      TempDirs.deleteRecursively(dir);
    }
  }
}
