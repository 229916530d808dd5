package io.sluice.engine.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.Clock;
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
  private volatile BatchFailedException failure;

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
    return failure != null;
  }

  /** Starts generating batches. */
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
    GroupModeCheck.verify(graph);
    // Before the outputs open: how an output opens may depend on the inputs it commits for (a
    // group-mode stream's member key is part of the exactly-once Kafka sink's transactional id).
    for (InputDStream<?, ?> in : graph.inputs()) {
      commitOwnership.committerOf(in).flatMap(graph::batchOutputOf).ifPresent(in::committedBy);
    }
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
    listeners.start();
    scheduler.start();
    generator.launch();
    LOG.info(
        "context '{}' started: batch interval {}, {} task slots",
        ctx.appName(),
        ctx.batchInterval(),
        ctx.parallelism());
  }

  /** Who commits each input's offsets. */
  CommitOwnership commitOwnership() {
    return commitOwnership;
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
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = e;
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
    BatchFailedException f = failure;
    if (f != null) {
      throw f;
    }
  }
}
