package io.sluice.engine;

/**
 * Elects one active driver among the processes that run the same single-driver application (one
 * with a global aggregation, say): the leader runs batches, the others wait as standbys. Set with
 * {@link StreamingContext.Builder#leaderElection(LeaderElection)}; the offsets module implements it
 * with ZooKeeper ({@code io.sluice.offsets.LeaderElections}).
 *
 * <p>How the context uses it: {@link StreamingContext#start()} registers {@link
 * #onLeadershipLost(Runnable)} and then calls {@link #awaitLeadership()} on its {@code
 * sluice-leader-election} thread; once it returns, the context starts for real, from the offset
 * store's committed positions. Right before each batch's commit it checks {@link #isLeader()}. It
 * calls {@link #close()} when it stops, which gives the leadership up. Leadership is one-shot per
 * context: once lost, the context stops and does not compete again; the process is expected to exit
 * and be restarted by its supervisor, coming back as a standby.
 *
 * <p>An election is not a fence by itself: a leader may learn late that it lost (a long pause, a
 * slow network). The offset stores fence what it would still commit (see {@code OffsetStore}).
 * Implementations must be thread-safe.
 */
public interface LeaderElection extends AutoCloseable {

  /**
   * Joins the election if not yet joined and blocks until this process leads. Returns at once when
   * it already leads.
   *
   * @throws InterruptedException if the calling thread is interrupted while waiting, or the
   *     election is closed while waiting
   * @throws IllegalStateException if the election was closed before the call
   */
  void awaitLeadership() throws InterruptedException;

  /**
   * Whether this process leads now, as far as it knows. Cheap; called before every batch commit.
   */
  boolean isLeader();

  /**
   * Registers {@code callback} to be run once when this process, having led, stops leading for any
   * reason but {@link #close()} (its session ended, its connection was suspended). It runs on a
   * thread of the election and must not block for long. Register before {@link #awaitLeadership()}.
   */
  void onLeadershipLost(Runnable callback);

  /**
   * A short description for logs and messages, e.g. {@code zookeeper(127.0.0.1:2181)/app/leader}.
   */
  String describe();

  /**
   * Leaves the election, giving the leadership up if held, so a standby can take over at once. Does
   * not run the {@link #onLeadershipLost(Runnable)} callback. Idempotent.
   */
  @Override
  void close();
}
