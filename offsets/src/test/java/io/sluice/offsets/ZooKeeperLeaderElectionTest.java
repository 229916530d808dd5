package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.LeaderElection;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link LeaderElections#zookeeper} against a real ZooKeeper server. */
@ExtendWith(EmbeddedZooKeeperExtension.class)
class ZooKeeperLeaderElectionTest {

  private static final AtomicInteger PATHS = new AtomicInteger();
  private static final Duration SESSION = Duration.ofSeconds(3);

  static String connectString;

  private final String path = "/sluice/election-test-" + PATHS.incrementAndGet() + "/leader";
  private final ExecutorService waiters = Executors.newCachedThreadPool();
  private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void zookeeper(EmbeddedZooKeeper zk) {
    connectString = zk.connectString();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    waiters.shutdownNow();
  }

  private LeaderElection election() {
    LeaderElection e = LeaderElections.zookeeper(connectString, path, SESSION);
    toClose.add(0, e);
    return e;
  }

  private Future<?> awaitLeadership(LeaderElection e, List<String> events, String name) {
    return waiters.submit(
        () -> {
          e.awaitLeadership();
          events.add(name + " leads");
          return null;
        });
  }

  @Test
  void exactlyOneLeadsAndClosingItElectsTheOther() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    LeaderElection a = election();
    LeaderElection b = election();
    Future<?> aWaits = awaitLeadership(a, events, "a");
    Future<?> bWaits = awaitLeadership(b, events, "b");

    await().atMost(Duration.ofSeconds(20)).until(() -> events.size() == 1);
    LeaderElection leader = events.get(0).equals("a leads") ? a : b;
    LeaderElection standby = leader == a ? b : a;
    Future<?> standbyWaits = leader == a ? bWaits : aWaits;
    assertThat(leader.isLeader()).isTrue();
    assertThat(standby.isLeader()).isFalse();
    assertThat(standbyWaits).isNotDone();

    List<String> lost = new CopyOnWriteArrayList<>();
    leader.onLeadershipLost(() -> lost.add("lost"));
    leader.close();

    standbyWaits.get(20, TimeUnit.SECONDS);
    assertThat(standby.isLeader()).isTrue();
    assertThat(leader.isLeader()).isFalse();
    assertThat(events).hasSize(2);
    assertThat(lost).as("closing is no loss").isEmpty();
  }

  @Test
  void leaderCutOffFromZooKeeperStopsLeadingBeforeItsSessionExpiresAndAnotherLeads()
      throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (Cutter cutter = Cutter.to(connectString);
        CuratorFramework client =
            CuratorFrameworkFactory.builder()
                .connectString(cutter.connectString())
                .sessionTimeoutMs((int) SESSION.toMillis())
                .connectionTimeoutMs(2_000)
                .retryPolicy(new RetryOneTime(100))
                .build()) {
      client.start();
      LeaderElection a = LeaderElections.zookeeper(client, path);
      toClose.add(0, a);
      a.onLeadershipLost(() -> events.add("a lost"));
      awaitLeadership(a, events, "a").get(20, TimeUnit.SECONDS);
      LeaderElection b = election();
      Future<?> bWaits = awaitLeadership(b, events, "b");
      assertThat(a.isLeader()).isTrue();

      cutter.cut();

      bWaits.get(30, TimeUnit.SECONDS);
      assertThat(events).containsExactly("a leads", "a lost", "b leads");
      assertThat(a.isLeader()).isFalse();
      assertThat(b.isLeader()).isTrue();
    }
    assertThat(events).containsExactly("a leads", "a lost", "b leads");
  }

  @Test
  void aLeaderThatLostDoesNotLeadAgainAfterItsConnectionReturns() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (Cutter cutter = Cutter.to(connectString);
        CuratorFramework client =
            CuratorFrameworkFactory.builder()
                .connectString(cutter.connectString())
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(2_000)
                .retryPolicy(new RetryOneTime(100))
                .build()) {
      client.start();
      LeaderElection a = LeaderElections.zookeeper(client, path);
      toClose.add(0, a);
      a.onLeadershipLost(() -> events.add("a lost"));
      awaitLeadership(a, events, "a").get(20, TimeUnit.SECONDS);

      // Connections dropped, session alive: the connection is suspended, then reconnects.
      cutter.dropConnections();

      await().atMost(Duration.ofSeconds(20)).until(() -> events.contains("a lost"));
      await().atMost(Duration.ofSeconds(20)).until(() -> client.getZookeeperClient().isConnected());
      assertThat(a.isLeader()).isFalse();
      assertThat(events).containsExactly("a leads", "a lost");
    }
  }

  @Test
  void closingWhileWaitingEndsTheWait() throws Exception {
    LeaderElection a = election();
    awaitLeadership(a, new CopyOnWriteArrayList<>(), "a").get(20, TimeUnit.SECONDS);
    LeaderElection b = election();
    Future<?> bWaits = awaitLeadership(b, new CopyOnWriteArrayList<>(), "b");
    await().atMost(Duration.ofSeconds(5)).until(() -> !bWaits.isDone());

    b.close();

    assertThatThrownBy(() -> bWaits.get(20, TimeUnit.SECONDS))
        .hasCauseInstanceOf(InterruptedException.class);
    assertThat(b.isLeader()).isFalse();
    assertThatThrownBy(b::awaitLeadership)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
    assertThat(a.isLeader()).isTrue();
    assertThat(b.describe()).isEqualTo("zookeeper(" + connectString + ")" + path);
  }

  @Test
  void badArgumentsAreRefusedNamingTheSetting() {
    assertThatThrownBy(() -> LeaderElections.zookeeper(connectString, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("path must be set, was null");
    assertThatThrownBy(() -> LeaderElections.zookeeper(connectString, " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("path must be an absolute znode path like /sluice/app/leader, was ' '");
    assertThatThrownBy(() -> LeaderElections.zookeeper(connectString, "/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("path must be an absolute znode path");
    assertThatThrownBy(() -> LeaderElections.zookeeper(connectString, "app/leader"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "path must be an absolute znode path like /sluice/app/leader, was 'app/leader'");
    assertThatThrownBy(() -> LeaderElections.zookeeper(connectString, "/app/leader/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "path must be an absolute znode path like /sluice/app/leader, was '/app/leader/'");
    assertThatThrownBy(() -> LeaderElections.zookeeper(" ", "/app/leader"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectString must be set and not blank, was ' '");
    assertThatThrownBy(() -> LeaderElections.zookeeper((String) null, "/app/leader"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectString must be set and not blank, was null");
    assertThatThrownBy(() -> LeaderElections.zookeeper(connectString, "/app", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sessionTimeout must be between 1 ms and")
        .hasMessageEndingWith("was PT0S");
    assertThatThrownBy(() -> LeaderElections.zookeeper((CuratorFramework) null, "/app"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("client must not be null, was null");
    try (CuratorFramework latent =
        CuratorFrameworkFactory.newClient(connectString, new RetryOneTime(100))) {
      assertThatThrownBy(() -> LeaderElections.zookeeper(latent, "/app"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("client must be a started CuratorFramework, was LATENT");
    }
  }

  /**
   * A TCP proxy to the ZooKeeper server that the test can cut: {@link #cut()} closes every
   * connection and refuses new ones (the client is disconnected and its session expires on the
   * server); {@link #dropConnections()} closes the current connections only (the client reconnects
   * within its session).
   */
  static final class Cutter implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private Cutter(InetSocketAddress target) throws IOException {
      this.target = target;
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(this::accept, "cutter-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    static Cutter to(String connectString) throws IOException {
      String[] hostPort = connectString.split(":");
      return new Cutter(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
    }

    String connectString() {
      return "127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket in = server.accept();
          Socket out = new Socket(target.getAddress(), target.getPort());
          sockets.add(in);
          sockets.add(out);
          pump(in, out);
          pump(out, in);
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void pump(Socket from, Socket to) {
      Thread t =
          new Thread(
              () -> {
                byte[] buf = new byte[8192];
                try (InputStream is = from.getInputStream();
                    OutputStream os = to.getOutputStream()) {
                  int n;
                  while ((n = is.read(buf)) >= 0) {
                    os.write(buf, 0, n);
                    os.flush();
                  }
                } catch (IOException e) {
                  // a side closed
                } finally {
                  closeQuietly(from);
                  closeQuietly(to);
                }
              },
              "cutter-pump");
      t.setDaemon(true);
      t.start();
    }

    void dropConnections() {
      for (Socket s : sockets) {
        closeQuietly(s);
      }
      sockets.clear();
    }

    void cut() {
      try {
        server.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      dropConnections();
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }

    @Override
    public void close() {
      cut();
    }
  }
}
