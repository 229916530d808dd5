package io.sluice.engine.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.Clock;
import io.sluice.engine.LeaderElection;
import io.sluice.engine.LeadershipLostException;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingContext.State;
import io.sluice.engine.TerminalException;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.internal.checkpoint.FileBatchJournal;
import io.sluice.engine.state.internal.StateOperator;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a running context owns: graph, task slots, generator, scheduler, metrics, lifecycle.
 */
public final class EngineRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(EngineRuntime.class);

  /** Reads and writes the plans in the checkpoint's batch log. */
  private static final ObjectMapper CHECKPOINT_JSON = new ObjectMapper();

  /**
   * How long a stopping context waits for the listeners to receive the events queued before the
   * stop.
   */
  static final Duration LISTENER_DRAIN_TIMEOUT = Duration.ofSeconds(10);

  private final StreamingContext ctx;
  private final DStreamGraph graph;
  private final TaskScheduler tasks;
  private final EngineMetrics metrics;
  private final ListenerBus listeners;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final List<StateOperator<?, ?>> stateOperators = new CopyOnWriteArrayList<>();
  private final boolean backpressure;
  private BatchJournal batchJournal = new InMemoryBatchJournal();
  private volatile CommitOwnership commitOwnership = CommitOwnership.none();
  private JobGenerator generator;
  private JobScheduler scheduler;
  private State state = State.INITIALIZED;
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

  /** The election, when the context runs as one of several candidates; else null. */
  private final LeaderElection election;

  /** The thread waiting for leadership; null without an election. */
  private Thread electionThread;

  /** Whether the batch machinery started (at start(), or once elected); guarded by this. */
  private boolean launched;

  /** Set once the leadership is lost: from then on nothing commits. */
  private volatile boolean leadershipLost;

  /** Set when the context closes its election itself, so the close is no loss. */
  private volatile boolean closingElection;

  /** What the stop is doing, for the message of a stop that takes longer than the stop timeout. */
  private volatile String stopPhase = "not stopping";

  /** Creates the runtime of {@code ctx}; task threads start lazily. */
  public EngineRuntime(StreamingContext ctx, boolean backpressure) {
    this.ctx = ctx;
    this.backpressure = backpressure;
    this.graph = new DStreamGraph(ctx);
    this.metrics = new EngineMetrics(ctx.meterRegistry(), ctx.appName());
    this.listeners =
        new ListenerBus(ctx.appName(), ListenerBus.DEFAULT_CAPACITY, metrics.listenerEventsDropped);
    this.tasks = new TaskScheduler(ctx.parallelism(), ctx.maxTaskAttempts(), metrics.taskRetries);
    this.election = ctx.leaderElection().orElse(null);
  }

  /** The context this runtime runs. */
  public StreamingContext context() {
    return ctx;
  }

  /** The graph. */
  public DStreamGraph graph() {
    return graph;
  }

  /**
   * Registers a state operator (when its stream is created, before start).
   *
   * @throws IllegalStateException after start
   */
  public void registerStateOperator(StateOperator<?, ?> operator) {
    graph.requireModifiable("add state operator");
    stateOperators.add(operator);
  }

  /** The state operators, in creation order. */
  public List<StateOperator<?, ?>> stateOperators() {
    return List.copyOf(stateOperators);
  }

  /**
   * The changes batch {@code batchId} made to the state operators that keep their state per source
   * partition (group mode), for the output that writes their changelog.
   */
  public List<io.sluice.engine.state.StateChange> stateChanges(long batchId) {
    List<io.sluice.engine.state.StateChange> out = new java.util.ArrayList<>();
    for (StateOperator<?, ?> op : stateOperators) {
      if (op.followsSources()) {
        out.addAll(op.changes(batchId));
      }
    }
    return out;
  }

  /** The task slots. */
  public TaskScheduler tasks() {
    return tasks;
  }

  /**
   * Runs {@code rdd} as a {@link ChunkedJob} consumed on the calling thread; see {@code
   * RDD.consumePartitions}.
   */
  public <T> void consumePartitions(
      io.sluice.engine.rdd.RDD<T> rdd,
      int chunkSize,
      int maxQueuedChunks,
      io.sluice.engine.rdd.RDD.ChunkConsumer<T> consumer)
      throws Exception {
    new ChunkedJob<T>(chunkSize, maxQueuedChunks).run(tasks, rdd, consumer);
  }

  /** The listeners. */
  public ListenerBus listeners() {
    return listeners;
  }

  EngineMetrics metrics() {
    return metrics;
  }

  JobScheduler scheduler() {
    return scheduler;
  }

  Clock clock() {
    return ctx.clock();
  }

  Duration batchInterval() {
    return ctx.batchInterval();
  }

  int concurrentJobs() {
    return ctx.concurrentJobs();
  }

  boolean backpressure() {
    return backpressure;
  }

  String appName() {
    return ctx.appName();
  }

  /** The batch log in use. */
  public synchronized BatchJournal batchJournal() {
    return batchJournal;
  }

  /**
   * Replaces the batch log (the exactly-once seam); only before start.
   *
   * @throws IllegalStateException after start
   */
  public synchronized void batchJournal(BatchJournal log) {
    if (state != State.INITIALIZED) {
      throw new IllegalStateException(
          "the batch log can only be set before start(), context is " + state);
    }
    this.batchJournal = Objects.requireNonNull(log, "log");
  }

  /** The lifecycle state. */
  public synchronized State state() {
    return state;
  }

  /** True once the context has fully stopped. */
  public boolean terminated() {
    return terminated.getCount() == 0;
  }

  boolean failed() {
    return failure.get() != null;
  }

  /** The loss as a batch failure, for a commit refused because the leadership is gone. */
  BatchFailedException leadershipLostAt(long batchId) {
    onLeadershipLost();
    return new BatchFailedException(
        batchId,
        "commit",
        -1,
        new LeadershipLostException(
            "context '"
                + ctx.appName()
                + "' does not lead at "
                + (election == null ? "?" : election.describe())
                + " any more: batch "
                + batchId
                + " not committed"));
  }

  /**
   * Starts generating batches; with a leader election, validates and returns, the rest waiting for
   * leadership on the {@code sluice-leader-election} thread.
   */
  public synchronized void start() {
    switch (state) {
      case ACTIVE ->
          throw new IllegalStateException("context '" + ctx.appName() + "' is already started");
      case STOPPED ->
          throw new IllegalStateException(
              "context '"
                  + ctx.appName()
                  + "' is stopped and cannot be restarted; build a new StreamingContext");
      default -> {}
    }
    commitOwnership = CommitOwnership.resolve(ctx, graph);
    ExactlyOnceCheck.verify(ctx, graph);
    GroupModeCheck.verify(graph, commitOwnership, election != null);
    // Before the outputs open: how an output opens may depend on the inputs it commits for (a
    // group-mode stream's member key is part of the exactly-once Kafka sink's transactional id).
    for (InputDStream<?, ?> in : graph.inputs()) {
      commitOwnership.committerOf(in).flatMap(graph::batchOutputOf).ifPresent(in::committedBy);
    }
    if (election == null) {
      launch();
      return;
    }
    state = State.ACTIVE;
    election.onLeadershipLost(this::onLeadershipLost);
    electionThread =
        EngineThreads.newThread("sluice-leader-election", false, this::awaitLeadershipAndLaunch);
    electionThread.start();
    LOG.info(
        "context '{}' waiting for leadership at {}: a standby until elected",
        ctx.appName(),
        election.describe());
  }

  /** The {@code sluice-leader-election} thread: waits, then starts unless stopped meanwhile. */
  private void awaitLeadershipAndLaunch() {
    try {
      election.awaitLeadership();
    } catch (InterruptedException e) {
      if (state() != State.STOPPED) {
        failStandby(new IllegalStateException("interrupted while waiting for leadership", e));
      }
      return;
    } catch (RuntimeException e) {
      if (state() != State.STOPPED) {
        failStandby(e);
      }
      return;
    }
    RuntimeException startFailure = null;
    synchronized (this) {
      if (state == State.STOPPED) {
        return; // stop() came first and finishes the context
      }
      LOG.info(
          "context '{}' elected leader at {}: starting from the committed offsets",
          ctx.appName(),
          election.describe());
      try {
        launch();
      } catch (RuntimeException e) {
        startFailure = e;
      }
    }
    if (startFailure != null) {
      failStandby(startFailure);
    }
  }

  /** A start after the election failed, or the wait did: records it and terminates. */
  private void failStandby(RuntimeException e) {
    failure.compareAndSet(null, e);
    synchronized (this) {
      if (state == State.STOPPED) {
        return;
      }
      state = State.STOPPED;
    }
    LOG.error("context '{}' failed to start: {}", ctx.appName(), e.toString(), e);
    finish();
  }

  /** Opens the checkpoint, outputs and inputs and starts the threads; caller holds the lock. */
  private void launch() {
    ctx.checkpointDir()
        .ifPresent(dir -> batchJournal = FileBatchJournal.open(dir, CHECKPOINT_JSON, planTypes()));
    scheduler = new JobScheduler(this);
    generator = new JobGenerator(this);
    try {
      // Outputs first: opening a transactional sink aborts what a crashed run left open, and the
      // inputs'
      // first reads of their groups' offsets would otherwise wait for the broker to time that out.
      openOutputs();
    } catch (RuntimeException e) {
      scheduler.abort();
      closeOutputs();
      closeJournal();
      throw e;
    }
    try {
      generator.prepare();
    } catch (RuntimeException e) {
      scheduler.abort();
      stopInputs();
      closeOutputs();
      closeJournal();
      throw e;
    }
    state = State.ACTIVE;
    launched = true;
    listeners.start();
    scheduler.start();
    generator.launch();
    LOG.info(
        "context '{}' started: batch interval {}, {} task slots",
        ctx.appName(),
        ctx.batchInterval(),
        ctx.parallelism());
  }

  /** Whether the context runs as one of several candidates of a leader election. */
  boolean hasElection() {
    return election != null;
  }

  /**
   * Whether a batch may commit: without an election always; with one, while this process leads and
   * has not lost the leadership. Checked right before every commit.
   */
  public boolean mayCommit() {
    return election == null || (!leadershipLost && election.isLeader());
  }

  /**
   * The leadership is lost (the election's callback, or a commit that found it gone): records the
   * failure and stops at once, on another thread, so the election's thread is not held up.
   */
  void onLeadershipLost() {
    if (closingElection || terminated() || leadershipLost) {
      return;
    }
    leadershipLost = true;
    LeadershipLostException e =
        new LeadershipLostException(
            "context '"
                + ctx.appName()
                + "' lost the leadership at "
                + election.describe()
                + ": stopped at once, committing nothing more; exit and restart the process, it"
                + " comes back as a standby");
    if (!failure.compareAndSet(null, e)) {
      return; // already failing or failed: that stop goes on, and nothing commits from here
    }
    EngineThreads.newThread("sluice-leadership-lost", false, () -> stopOnLostLeadership(e)).start();
  }

  private void stopOnLostLeadership(LeadershipLostException e) {
    boolean running;
    synchronized (this) {
      running = launched;
    }
    LOG.error("{}", e.getMessage());
    listeners.post(l -> l.onError(e));
    if (running) {
      // A graceful stop in progress must not run its remaining batches either.
      generator.requestStop(false);
      scheduler.abort();
    }
    stopAsync(false);
  }

  /** Who commits each input's offsets. */
  CommitOwnership commitOwnership() {
    return commitOwnership;
  }

  /**
   * The batch as output operation {@code op} sees it: with several committing outputs (group-mode
   * inputs only), a committing output sees only the plans of the inputs whose offsets it commits.
   */
  public Batch batchFor(String op, Batch batch) {
    return commitOwnership.batchFor(op, batch);
  }

  /**
   * Releases the batch log and its directory lock after a failed start, so a later start can take
   * it.
   */
  private synchronized void closeJournal() {
    try {
      batchJournal.close();
    } catch (RuntimeException e) {
      LOG.warn("batch log failed to close", e);
    }
    batchJournal = new InMemoryBatchJournal();
  }

  private Map<String, Class<?>> planTypes() {
    Map<String, Class<?>> types = new HashMap<>();
    for (InputDStream<?, ?> in : graph.inputs()) {
      types.put(in.name(), in.planType());
    }
    return types;
  }

  private void openOutputs() {
    for (BatchOutput<?> o : graph.batchOutputs()) {
      try {
        o.open(ctx);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new TerminalException("output " + o.describe() + " failed to open: " + e, e);
      }
    }
  }

  private void closeOutputs() {
    for (StateOperator<?, ?> op : stateOperators) {
      try {
        op.close();
      } catch (RuntimeException e) {
        LOG.warn("state operator {} failed to close", op.name(), e);
      }
    }
    for (BatchOutput<?> o : graph.batchOutputs()) {
      try {
        o.close();
      } catch (Exception e) {
        LOG.warn("output {} failed to close", o.describe(), e);
      }
    }
  }

  /** Moves to STOPPED; returns the previous state, or null if already stopped. */
  private synchronized State markStopped() {
    if (state == State.STOPPED) {
      return null;
    }
    State prev = state;
    state = State.STOPPED;
    return prev;
  }

  /**
   * Stops. Off the engine's threads, waits until the context has terminated, at most the context's
   * stop timeout, whether this call began the stop or another did (a second caller, a failed batch,
   * exhausted inputs). On an engine thread (a listener, an output operation, a task), the stop goes
   * on in the background: waiting there would wait for the caller itself.
   *
   * @throws IllegalStateException when the context has not terminated within the stop timeout; it
   *     goes on stopping in the background
   */
  public void stop(boolean graceful) {
    State prev = markStopped();
    if (prev == State.INITIALIZED) {
      finish();
      return;
    }
    if (prev == State.ACTIVE) {
      stopInBackground(graceful);
    }
    if (!EngineThreads.onEngineThread()) {
      awaitStopped();
    }
  }

  /** Stops without blocking the caller. */
  void stopAsync(boolean graceful) {
    State prev = markStopped();
    if (prev == State.ACTIVE) {
      stopInBackground(graceful);
    } else if (prev == State.INITIALIZED) {
      finish();
    }
  }

  private void awaitStopped() {
    Duration timeout = ctx.stopTimeout();
    try {
      if (!terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException(
            "context '"
                + ctx.appName()
                + "' did not stop within the stop timeout of "
                + timeout
                + " (still "
                + stopPhase
                + "); it goes on stopping in the background, and awaitTermination()"
                + " waits for the end. A graceful stop runs every batch already due: raise stopTimeout if they take"
                + " longer, or stop(false)");
      }
    } catch (InterruptedException e) {
      // The stop goes on; the caller asked not to wait for it.
      Thread.currentThread().interrupt();
    }
  }

  private void stopInBackground(boolean graceful) {
    EngineThreads.newThread("sluice-stopper", false, () -> doStop(graceful)).start();
  }

  /**
   * The stop itself, on the {@code sluice-stopper} thread; always terminates the context, even on a
   * bug.
   */
  private void doStop(boolean graceful) {
    LOG.info("stopping context '{}' ({})", ctx.appName(), graceful ? "graceful" : "immediate");
    boolean running;
    synchronized (this) {
      running = launched;
    }
    if (!running) {
      stopStandby();
      return;
    }
    try {
      if (graceful) {
        stopPhase = "stopping the receivers";
        for (InputDStream<?, ?> in : graph.inputs()) {
          try {
            in.stopReceiving();
          } catch (RuntimeException e) {
            LOG.warn("input {} failed to stop receiving", in.name(), e);
          }
        }
      }
      stopPhase = graceful ? "running the batches already due" : "interrupting the running batch";
      generator.requestStop(graceful);
      if (!graceful) {
        scheduler.abort();
        tasks.shutdown();
      }
      try {
        generator.join();
        scheduler.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stopPhase = "closing the outputs";
      closeOutputs();
      stopPhase = "stopping the inputs";
      stopInputs();
    } finally {
      finish();
    }
  }

  /** Stops a context still waiting for leadership: leaves the election and ends the wait. */
  private void stopStandby() {
    try {
      closeElection();
      Thread t = electionThread;
      if (t != null && t != Thread.currentThread()) {
        t.interrupt();
        t.join(ctx.stopTimeout().toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      finish();
    }
  }

  private void closeElection() {
    if (election == null) {
      return;
    }
    closingElection = true;
    try {
      election.close();
    } catch (RuntimeException e) {
      LOG.warn("leader election {} failed to close", election.describe(), e);
    }
  }

  private void stopInputs() {
    for (InputDStream<?, ?> in : graph.inputs()) {
      try {
        in.stop();
      } catch (RuntimeException e) {
        LOG.warn("input '{}' failed to stop", in.name(), e);
      }
    }
  }

  private void finish() {
    stopPhase = "waiting for the tasks to end";
    tasks.shutdown();
    try {
      tasks.awaitShutdown(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // After the last commit: a standby may take over from here.
    stopPhase = "leaving the leader election";
    closeElection();
    stopPhase = "closing the batch log";
    try {
      batchJournal().close();
    } catch (RuntimeException e) {
      LOG.warn("batch log failed to close", e);
    }
    // Last: every event posted by the stopped threads (a failed batch, its output operations) is
    // delivered
    // before awaitTermination() and stop() return.
    stopPhase = "delivering the queued listener events";
    listeners.stop(LISTENER_DRAIN_TIMEOUT);
    stopPhase = "stopped";
    terminated.countDown();
    LOG.info("context '{}' stopped", ctx.appName());
  }

  /** Records the failure (the first wins), tells listeners, stops the context without waiting. */
  void fail(BatchFailedException e, BatchInfo info) {
    if (!failure.compareAndSet(null, e)) {
      return;
    }
    LOG.error("context '{}' failed: {}", ctx.appName(), e.getMessage(), e);
    if (info != null) {
      listeners.post(l -> l.onBatchFailed(info, e));
    } else {
      listeners.post(l -> l.onError(e));
    }
    stopAsync(false);
  }

  /** Waits for the stop; rethrows the failure. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
    rethrow();
  }

  /** Waits at most {@code timeout}; rethrows the failure; true when stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    if (!terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      return false;
    }
    rethrow();
    return true;
  }

  private void rethrow() {
    RuntimeException f = failure.get();
    if (f != null) {
      throw f;
    }
  }
}
