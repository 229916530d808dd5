package io.sluice.offsets;

import io.sluice.engine.LeaderElection;
import io.sluice.offsets.internal.ZooKeeperLeaderElection;
import java.time.Duration;
import java.util.Objects;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.zookeeper.common.PathUtils;

/**
 * Static factories for the {@link LeaderElection}s that elect one active driver among the processes
 * of a single-driver application, for {@code StreamingContext.builder().leaderElection(...)}.
 *
 * <pre>{@code
 * StreamingContext ctx = StreamingContext.builder()
 *     .appName("orders-etl")
 *     .batchInterval(Duration.ofMillis(500))
 *     .checkpointDir(Path.of("/var/lib/orders-etl"))      // each process its own
 *     .leaderElection(LeaderElections.zookeeper(curator, "/sluice/orders-etl/leader"))
 *     .build();
 * }</pre>
 *
 * <p>ZooKeeper elections use Curator's {@code LeaderLatch}: every candidate holds an ephemeral
 * sequential znode under {@code path}; the oldest leads. A candidate whose connection to ZooKeeper
 * is suspended or whose session is lost stops leading at once (whatever the client's own
 * connection-state error policy), and does not lead again: its context stops. A standby takes over
 * when the leader's znode goes, that is at once when the leader stops or closes, and within the
 * session timeout when its process dies or is cut off.
 *
 * <p>The factories validate their arguments and do no I/O; the election joins when the context
 * starts.
 */
public final class LeaderElections {

  /** The session timeout of the ZooKeeper client an election creates itself. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);

  private LeaderElections() {}

  /**
   * An election among the candidates under znode {@code path}, through {@code client}, which must
   * be started and stays the caller's to close (after the context stopped). Its session timeout is
   * the one a dead leader's successor waits for.
   *
   * @throws IllegalArgumentException if {@code client} is null or not started, or {@code path} is
   *     not an absolute znode path other than {@code /}
   */
  public static LeaderElection zookeeper(CuratorFramework client, String path) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null, was null");
    }
    if (client.getState() != CuratorFrameworkState.STARTED) {
      throw new IllegalArgumentException(
          "client must be a started CuratorFramework, was " + client.getState());
    }
    return ZooKeeperLeaderElection.withClient(client, requirePath(path));
  }

  /**
   * An election among the candidates under znode {@code path} of the ZooKeeper ensemble at {@code
   * connectString} (e.g. {@code zk1:2181,zk2:2181}), through a client of its own with a session
   * timeout of {@link #DEFAULT_SESSION_TIMEOUT}, closed with the election.
   *
   * @throws IllegalArgumentException if {@code connectString} is blank or {@code path} is not an
   *     absolute znode path other than {@code /}
   */
  public static LeaderElection zookeeper(String connectString, String path) {
    return zookeeper(connectString, path, DEFAULT_SESSION_TIMEOUT);
  }

  /**
   * As {@link #zookeeper(String, String)}, with the client's ZooKeeper session timeout: how long
   * after the leader's process dies a standby takes over, and how soon a cut-off leader stops (at
   * about two thirds of it, when its connection is suspended). The ensemble bounds it, by default
   * to 2 to 20 of its ticks.
   *
   * @throws IllegalArgumentException if a setting is invalid, naming it
   */
  public static LeaderElection zookeeper(
      String connectString, String path, Duration sessionTimeout) {
    if (connectString == null || connectString.isBlank()) {
      throw new IllegalArgumentException(
          "connectString must be set and not blank, was "
              + (connectString == null ? "null" : "'" + connectString + "'"));
    }
    if (sessionTimeout == null
        || sessionTimeout.toMillis() <= 0
        || sessionTimeout.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "sessionTimeout must be between 1 ms and "
              + Integer.MAX_VALUE
              + " ms, was "
              + sessionTimeout);
    }
    return ZooKeeperLeaderElection.withOwnClient(
        connectString, requirePath(path), (int) sessionTimeout.toMillis());
  }

  private static String requirePath(String path) {
    if (path == null) {
      throw new IllegalArgumentException("path must be set, was null");
    }
    if (path.isBlank() || path.equals("/")) {
      throw new IllegalArgumentException(
          "path must be an absolute znode path like /sluice/app/leader, was '" + path + "'");
    }
    try {
      PathUtils.validatePath(path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "path must be an absolute znode path like /sluice/app/leader, was '"
              + path
              + "': "
              + e.getMessage(),
          e);
    }
    return Objects.requireNonNull(path);
  }
}
