package io.sluice.offsets.internal;

import io.sluice.engine.LeaderElection;
import java.io.EOFException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link LeaderElection} on Curator's {@link LeaderLatch}; see {@code LeaderElections}. Joins at
 * the first {@link #awaitLeadership()}. Once it has led, a suspended or lost connection (checked by
 * its own connection-state listener, whatever the client's error policy) or the latch's own {@code
 * notLeader} ends its leadership for good: {@link #isLeader()} stays false and the callbacks run
 * once, on the Curator thread that saw it. Thread-safe.
 */
public final class ZooKeeperLeaderElection implements LeaderElection {

  private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperLeaderElection.class);

  private final CuratorFramework client;
  private final boolean ownsClient;
  private final String connectString;
  private final String path;
  private final String id;
  private final List<Runnable> lostCallbacks = new CopyOnWriteArrayList<>();
  private final ConnectionStateListener connectionListener = this::connectionChanged;

  // Guarded by this.
  private LeaderLatch latch;
  private boolean closed;

  private volatile boolean led;
  private volatile boolean lost;

  private ZooKeeperLeaderElection(
      CuratorFramework client, boolean ownsClient, String connectString, String path) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.connectString = connectString;
    this.path = path;
    // "pid@host": names the candidate in the latch's znode and in logs.
    this.id = ManagementFactory.getRuntimeMXBean().getName();
  }

  /** An election through the caller's started {@code client}, which it does not close. */
  public static ZooKeeperLeaderElection withClient(CuratorFramework client, String path) {
    return new ZooKeeperLeaderElection(
        client, false, client.getZookeeperClient().getCurrentConnectionString(), path);
  }

  /** An election through a client of its own, created here and connected when it joins. */
  public static ZooKeeperLeaderElection withOwnClient(
      String connectString, String path, int sessionTimeoutMs) {
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .sessionTimeoutMs(sessionTimeoutMs)
            .connectionTimeoutMs(Math.min(sessionTimeoutMs, 15_000))
            .retryPolicy(new ExponentialBackoffRetry(100, 3))
            .build();
    return new ZooKeeperLeaderElection(client, true, connectString, path);
  }

  @Override
  public void awaitLeadership() throws InterruptedException {
    LeaderLatch l = join();
    LOG.info("{} waiting for leadership at {}", id, describe());
    try {
      l.await();
    } catch (EOFException e) {
      InterruptedException closedWhileWaiting =
          new InterruptedException("leader election " + describe() + " closed while waiting");
      closedWhileWaiting.initCause(e);
      throw closedWhileWaiting;
    }
    LOG.info("{} elected leader at {}", id, describe());
  }

  private synchronized LeaderLatch join() {
    if (closed) {
      throw new IllegalStateException("leader election " + describe() + " is closed");
    }
    if (latch == null) {
      if (ownsClient) {
        client.start();
      }
      client.getConnectionStateListenable().addListener(connectionListener);
      LeaderLatch l = new LeaderLatch(client, path, id);
      l.addListener(
          new LeaderLatchListener() {
            @Override
            public void isLeader() {
              led = true;
            }

            @Override
            public void notLeader() {
              lose("the leader latch reported the leadership gone");
            }
          });
      try {
        l.start();
      } catch (Exception e) {
        throw new IllegalStateException("cannot join the leader election " + describe(), e);
      }
      latch = l;
    }
    return latch;
  }

  private void connectionChanged(CuratorFramework c, ConnectionState state) {
    if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
      lose("the ZooKeeper connection is " + state);
    }
  }

  /** Ends a held leadership for good and tells the callbacks, once. */
  private void lose(String why) {
    synchronized (this) {
      if (!led || lost || closed) {
        return;
      }
      lost = true;
    }
    LOG.warn("{} lost the leadership at {}: {}", id, describe(), why);
    for (Runnable r : lostCallbacks) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.warn("a leadership-lost callback failed", e);
      }
    }
  }

  @Override
  public boolean isLeader() {
    LeaderLatch l;
    synchronized (this) {
      l = latch;
    }
    return l != null && !lost && l.hasLeadership();
  }

  @Override
  public void onLeadershipLost(Runnable callback) {
    lostCallbacks.add(java.util.Objects.requireNonNull(callback, "callback"));
  }

  @Override
  public String describe() {
    return "zookeeper(" + connectString + ")" + path;
  }

  @Override
  public void close() {
    LeaderLatch l;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      l = latch;
    }
    client.getConnectionStateListenable().removeListener(connectionListener);
    if (l != null && l.getState() == LeaderLatch.State.STARTED) {
      try {
        // Silent: the close is no loss. Deletes this candidate's znode, so a standby leads at once.
        l.close(LeaderLatch.CloseMode.SILENT);
      } catch (IOException | RuntimeException e) {
        LOG.warn("leader election {}: closing the latch failed: {}", describe(), e.toString());
      }
    }
    if (ownsClient) {
      client.close();
    }
    LOG.info("{} left the leader election at {}", id, describe());
  }

  @Override
  public String toString() {
    return "ZooKeeperLeaderElection[" + describe() + ", " + id + "]";
  }
}
