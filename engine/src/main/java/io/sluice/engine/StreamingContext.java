package io.sluice.engine;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.internal.QueueInputDStream;
import io.sluice.engine.files.internal.FileInputDStream;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.internal.EngineRuntime;
import io.sluice.engine.internal.StatusHook;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import io.sluice.engine.receiver.Receiver;
import io.sluice.engine.receiver.SocketOptions;
import io.sluice.engine.receiver.internal.ReceiverInputDStream;
import io.sluice.engine.receiver.internal.SocketTextReceiver;
import io.sluice.engine.status.StatusServerProvider.StatusServer;
import io.sluice.engine.status.StatusSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;

/**
 * The entry point: holds the configuration, the DStream graph, the task slots and the batch
 * lifecycle.
 *
 * <p>Build with {@link #builder()}, add inputs, transformations and output operations on the
 * application thread, then {@link #start()}. Every batch interval (by the injected {@link Clock}) a
 * batch is planned on every input and one job per output operation runs on the task slots; batches
 * run one after another, in order, and none is skipped. Lifecycle: {@link State#INITIALIZED} →
 * {@link State#ACTIVE} → {@link State#STOPPED}; a stopped context cannot be restarted.
 *
 * <p>Threads: {@code sluice-job-generator} (plans batches), {@code sluice-job-scheduler} (runs
 * batches, commits), {@code sluice-job-N} (output-operation jobs, {@code concurrentJobs} of them),
 * {@code sluice-task-N} ({@code parallelism} task slots), {@code sluice-listener-bus} (calls the
 * {@link StreamingListener}s) and, while stopping, {@code sluice-stopper}. With a {@link
 * Builder#leaderElection(LeaderElection) leader election}, {@code sluice-leader-election} waits for
 * the leadership before the others start, and {@code sluice-leadership-lost} stops the context when
 * it is lost. The public methods are thread-safe.
 */
public final class StreamingContext {

  static {
    EngineAccess.install(c -> c.runtime);
  }

  /** Lifecycle states. */
  public enum State {
    /** Built; operators and outputs may be added. */
    INITIALIZED,
    /** Started: batches run. */
    ACTIVE,
    /** Stopped (or stopping); cannot be restarted. */
    STOPPED
  }

  private final String appName;
  private final Duration batchInterval;
  private final int parallelism;
  private final int concurrentJobs;
  private final int maxTaskAttempts;
  private final Duration stopTimeout;
  private final Clock clock;
  private final MeterRegistry meterRegistry;
  private final Path checkpointDir;
  private final boolean exactlyOnce;
  private final int stateSnapshotInterval;
  private final boolean dropOrphanedState;
  private final Duration blockInterval;
  private final long receiverMaxRate;
  private final boolean receiverWriteAheadLog;
  private final LeaderElection leaderElection;
  private final EngineRuntime runtime;

  private StreamingContext(Builder b, StatusServer status) {
    this.appName = b.appName;
    this.batchInterval = b.batchInterval;
    this.parallelism = b.parallelism;
    this.concurrentJobs = b.concurrentJobs;
    this.maxTaskAttempts = b.maxTaskAttempts;
    this.stopTimeout = b.stopTimeout;
    this.clock = b.clock;
    this.meterRegistry =
        StatusHook.registry(
            b.meterRegistry != null ? b.meterRegistry : new SimpleMeterRegistry(), status);
    this.checkpointDir = b.checkpointDir;
    this.exactlyOnce = b.exactlyOnce;
    this.stateSnapshotInterval = b.stateSnapshotInterval;
    this.dropOrphanedState = b.dropOrphanedState;
    this.blockInterval = b.blockInterval;
    this.receiverMaxRate = b.receiverMaxRate;
    this.receiverWriteAheadLog = b.receiverWriteAheadLog;
    this.leaderElection = b.leaderElection;
    this.runtime = new EngineRuntime(this, b.backpressure);
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Validates the graph (window and slide durations, operator names, at least one output operation)
   * and starts generating batches. Returns at once.
   *
   * <p>With a {@link Builder#leaderElection(LeaderElection) leader election}, the context becomes
   * {@link State#ACTIVE} at once but runs no batch yet: its {@code sluice-leader-election} thread
   * waits for leadership, then opens the checkpoint, the outputs and the inputs and starts from the
   * offset store's committed positions. A failure of that late start stops the context and {@link
   * #awaitTermination()} rethrows it.
   *
   * @throws IllegalArgumentException if the graph is invalid (the context stays INITIALIZED)
   * @throws IllegalStateException if already started or stopped
   */
  public void start() {
    runtime.start();
  }

  /**
   * Stops the context. Graceful: no new batch after the current clock time, and every batch already
   * due (planned or with a batch time at or before now) runs and commits first. Not graceful:
   * queued batches are dropped and the running one is interrupted without commit. Idempotent;
   * stopping a never-started context only releases it.
   *
   * <p>Blocks until the context has terminated (task slots ended, outputs closed, inputs stopped,
   * and every listener event posted before the stop delivered), for every caller: the one that
   * began the stop, a second caller while it is stopping, and a caller after a failed batch or
   * exhausted inputs began it. The wait is bounded by {@link Builder#stopTimeout(Duration)
   * stopTimeout} (default 60 s). Called from an engine thread (a listener, an output operation, a
   * task), it does not wait: the stop goes on in the background, since waiting there would wait for
   * the caller itself. If the calling thread is interrupted while waiting, returns at once with its
   * interrupt status set; the stop goes on. A second call does not turn a graceful stop in progress
   * into an immediate one.
   *
   * @throws IllegalStateException if the context has not terminated within the stop timeout (the
   *     message says what the stop is still doing); it goes on stopping in the background and
   *     {@link #awaitTermination()} waits for the end
   */
  public void stop(boolean graceful) {
    runtime.stop(graceful);
  }

  /**
   * Blocks until the context has stopped.
   *
   * @throws BatchFailedException when the context stopped because a batch failed (batch id, output
   *     operation, partition, and the cause)
   * @throws LeadershipLostException when the context stopped because its process lost the
   *     leadership of its {@link Builder#leaderElection(LeaderElection) leader election}
   * @throws RuntimeException the failure of a start that began after winning the election
   * @throws InterruptedException if the waiting thread is interrupted
   */
  public void awaitTermination() throws InterruptedException {
    runtime.awaitTermination();
  }

  /**
   * Blocks until the context has stopped or {@code timeout} passed.
   *
   * @return true if stopped
   * @throws BatchFailedException when the context stopped because a batch failed
   * @throws LeadershipLostException when the context stopped because it lost the leadership
   * @throws InterruptedException if the waiting thread is interrupted
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return runtime.awaitTermination(timeout);
  }

  /** The lifecycle state. */
  public State state() {
    return runtime.state();
  }

  /**
   * Whether this context may commit: always true without a {@link
   * Builder#leaderElection(LeaderElection) leader election}; with one, true while this process
   * leads and has not lost the leadership since the context started. A transactional output may
   * check it right before its commit. Cheap, any thread.
   */
  public boolean isLeader() {
    return runtime.mayCommit();
  }

  // ---------------------------------------------------------------- settings

  /** The application name. */
  public String appName() {
    return appName;
  }

  /** The batch interval. */
  public Duration batchInterval() {
    return batchInterval;
  }

  /** The number of task slots. */
  public int parallelism() {
    return parallelism;
  }

  /** How many output-operation jobs of a batch may run at once. */
  public int concurrentJobs() {
    return concurrentJobs;
  }

  /** How many times a task is attempted before its job fails. */
  public int maxTaskAttempts() {
    return maxTaskAttempts;
  }

  /** How long {@link #stop(boolean)} waits for the context to terminate. */
  public Duration stopTimeout() {
    return stopTimeout;
  }

  /** The clock. */
  public Clock clock() {
    return clock;
  }

  /** The registry receiving the {@code sluice.*} meters. */
  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /** The checkpoint directory (batch log, commit log, state), if configured. */
  public Optional<Path> checkpointDir() {
    return Optional.ofNullable(checkpointDir);
  }

  /** Whether {@link #start()} must refuse a pipeline that cannot give exactly-once. */
  public boolean exactlyOnce() {
    return exactlyOnce;
  }

  /** How often a receiver's single stored records are cut into a block. */
  public Duration blockInterval() {
    return blockInterval;
  }

  /** The most records per second each receiver stores; 0 for no limit. */
  public long receiverMaxRate() {
    return receiverMaxRate;
  }

  /** The leader election this context waits on before it runs batches, if set. */
  public Optional<LeaderElection> leaderElection() {
    return Optional.ofNullable(leaderElection);
  }

  /** Whether receivers write every block ahead to a log under the checkpoint directory. */
  public boolean receiverWriteAheadLog() {
    return receiverWriteAheadLog;
  }

  /** Every how many batches a state operator's partition writes a snapshot besides its delta. */
  public int stateSnapshotInterval() {
    return stateSnapshotInterval;
  }

  /** Whether {@link #start()} deletes the state of operators the application no longer has. */
  public boolean dropOrphanedState() {
    return dropOrphanedState;
  }

  // ---------------------------------------------------------------- listeners, inputs, RDDs

  /**
   * Adds a listener (see {@link StreamingListener} for its thread contract).
   *
   * @throws IllegalStateException if the context is stopped
   */
  public void addStreamingListener(StreamingListener listener) {
    Objects.requireNonNull(listener, "listener");
    requireNotStopped("add a listener");
    runtime.listeners().add(listener);
  }

  /**
   * The stream of the records {@code receiver} stores (see {@link Receiver}), named {@code
   * receiver-<index>}. The receiver runs on one of the context's task slots from {@link #start()};
   * each batch holds the blocks stored before it.
   *
   * @throws IllegalStateException once started
   */
  public <T> DStream<T> receiverStream(Receiver<T> receiver) {
    Objects.requireNonNull(receiver, "receiver");
    requireNotStopped("add a receiver stream");
    return new ReceiverInputDStream<>(
        this, receiver, "receiver-" + runtime.graph().inputs().size());
  }

  /**
   * The UTF-8 lines a TCP server at {@code host:port} sends, through a receiver that reconnects
   * after a back-off when the connection fails. At-most-once: a socket cannot replay.
   */
  public DStream<String> socketTextStream(String host, int port) {
    Objects.requireNonNull(host, "host");
    if (port <= 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be in 1..65535, was " + port);
    }
    return receiverStream(new SocketTextReceiver(host, port));
  }

  /**
   * As {@link #socketTextStream(String, int)}, with {@code options}: with {@link
   * SocketOptions.Builder#acknowledged(boolean) acknowledged(true)} the receiver stores lines as
   * blocks (cut every {@link #blockInterval()} or {@link SocketOptions#maxBlockLines()} lines) and
   * writes {@code ACK <n>} back to the sender after each block is stored (durable, with {@code
   * receiverWriteAheadLog(true)}), so a sender that resends what was not acknowledged gets its
   * lines in at least once; see {@link SocketOptions} for the protocol.
   */
  public DStream<String> socketTextStream(String host, int port, SocketOptions options) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(options, "options");
    if (port <= 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be in 1..65535, was " + port);
    }
    return receiverStream(new SocketTextReceiver(host, port, options, blockInterval()));
  }

  /**
   * The UTF-8 lines of the files that appear in directory {@code dir}, each file read by exactly
   * one batch, named {@code files-<index>} (rename it with {@link DStream#name(String)}, and keep
   * the name stable: the stream's progress is kept under it). Not a receiver: every batch lists the
   * directory at its plan time and takes the files no batch took before, oldest first (by
   * modification time, then name), one partition per file, read lazily line by line.
   *
   * <p>Move complete files into the directory atomically (write them elsewhere on the same file
   * system, or under an ignored name, then rename) and do not change them afterwards: a file whose
   * size or modification time changed between the plan and the read, or that is gone by then, fails
   * the batch, naming the file. Ignored: subdirectories, names starting with {@code .} or {@code
   * _}, names ending in {@code .tmp} or {@code ._COPYING_}. At the first start every file already
   * in the directory is new.
   *
   * <p>With a {@link Builder#checkpointDir(Path) checkpoint directory}, which files each batch took
   * is kept in a checksummed ledger under {@code checkpointDir/files/<stream>/}, so across crashes
   * and restarts every file is read by one batch, and a replayed batch reads the same files. The
   * files are numbered one after another: the exactly-once {@code JdbcSink} with an offset store
   * commits those numbers with each batch's rows, and the stream restarts from where it committed.
   * A file is remembered while it is in the directory; once its batch committed and it is gone
   * (deleted or moved away), it is forgotten, and a later file with the same name is new. Replacing
   * a remembered file in place is not seen. Without a checkpoint directory the ledger is in memory:
   * a restarted context reads every file in the directory again.
   *
   * @throws IllegalStateException once started; {@link #start()} fails when {@code dir} is not a
   *     readable directory, naming it
   */
  public DStream<String> textFileStream(Path dir) {
    Objects.requireNonNull(dir, "dir");
    requireNotStopped("add a file stream");
    return new FileInputDStream(this, dir, "files-" + runtime.graph().inputs().size());
  }

  /**
   * A stream taking one RDD from {@code queue} per batch (an empty batch when the queue is empty).
   */
  public <T> DStream<T> queueStream(Queue<RDD<T>> queue) {
    return queueStream(queue, true, null);
  }

  /**
   * A stream reading {@code queue}: one RDD per batch if {@code oneAtATime}, else everything queued
   * at the batch time. The queue is polled on the job generator thread; use a concurrent queue to
   * add to it while running. Not recoverable after a restart.
   */
  public <T> DStream<T> queueStream(Queue<RDD<T>> queue, boolean oneAtATime) {
    return queueStream(queue, oneAtATime, null);
  }

  /**
   * As {@link #queueStream(Queue, boolean)}, with {@code defaultRdd} for batches when the queue is
   * empty.
   */
  public <T> DStream<T> queueStream(Queue<RDD<T>> queue, boolean oneAtATime, RDD<T> defaultRdd) {
    Objects.requireNonNull(queue, "queue");
    requireNotStopped("add a queue stream");
    return new QueueInputDStream<>(
        this, "queueStream-" + runtime.graph().inputs().size(), queue, oneAtATime, defaultRdd);
  }

  /**
   * A stream taking one collection from {@code queue} per batch, each cut into {@link
   * #parallelism()} slices.
   */
  public <T> DStream<T> queueCollectionStream(Queue<? extends Collection<T>> queue) {
    return queueCollectionStream(queue, true);
  }

  /**
   * A stream reading collections from {@code queue} (one per batch, or all queued if not {@code
   * oneAtATime}); see {@link #queueStream(Queue, boolean)}.
   */
  public <T> DStream<T> queueCollectionStream(
      Queue<? extends Collection<T>> queue, boolean oneAtATime) {
    Objects.requireNonNull(queue, "queue");
    return queueStream(new CollectionQueue<>(queue), oneAtATime, null);
  }

  /**
   * An RDD over a snapshot of {@code data}, cut into {@code numSlices} contiguous partitions.
   *
   * @throws IllegalArgumentException if {@code numSlices} is not positive
   * @throws IllegalStateException if the context has terminated
   */
  public <T> RDD<T> parallelize(List<T> data, int numSlices) {
    Objects.requireNonNull(data, "data");
    if (runtime.terminated()) {
      throw new IllegalStateException(
          "cannot create an RDD: context '"
              + appName
              + "' is stopped; build a new StreamingContext");
    }
    if (numSlices <= 0) {
      throw new IllegalArgumentException("numSlices must be > 0, was " + numSlices);
    }
    return new ParallelCollectionRDD<>(this, data, numSlices);
  }

  /** As {@link #parallelize(List, int)} with {@link #parallelism()} slices. */
  public <T> RDD<T> parallelize(List<T> data) {
    return parallelize(data, parallelism);
  }

  /** An RDD without partitions. */
  public <T> RDD<T> emptyRDD() {
    if (runtime.terminated()) {
      throw new IllegalStateException("cannot create an RDD: context '" + appName + "' is stopped");
    }
    return new ParallelCollectionRDD<>(this, List.of(), 0);
  }

  private void requireNotStopped(String what) {
    if (runtime.state() == State.STOPPED) {
      throw new IllegalStateException(
          "cannot "
              + what
              + ": context '"
              + appName
              + "' is stopped; build a new StreamingContext");
    }
  }

  @Override
  public String toString() {
    return "StreamingContext[" + appName + ", " + batchInterval + ", " + state() + "]";
  }

  /**
   * Adapts a queue of collections to a queue of RDDs, parallelizing each collection when polled.
   */
  private final class CollectionQueue<T> extends AbstractQueue<RDD<T>> {
    private final Queue<? extends Collection<T>> source;

    CollectionQueue(Queue<? extends Collection<T>> source) {
      this.source = source;
    }

    @Override
    public RDD<T> poll() {
      Collection<T> c = source.poll();
      return c == null
          ? null
          : new ParallelCollectionRDD<>(
              StreamingContext.this, new ArrayList<>(c), c.isEmpty() ? 0 : parallelism);
    }

    @Override
    public RDD<T> peek() {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean offer(RDD<T> e) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Iterator<RDD<T>> iterator() {
      throw new UnsupportedOperationException();
    }

    @Override
    public int size() {
      return source.size();
    }
  }

  /**
   * Builds a {@link StreamingContext}. Not thread-safe; {@link #build()} copies the settings, so
   * later changes to the builder do not reach a built context.
   */
  public static final class Builder {
    private String appName;
    private Duration batchInterval;
    private int parallelism = Runtime.getRuntime().availableProcessors();
    private int concurrentJobs = 1;
    private int maxTaskAttempts = 4;
    private Duration stopTimeout = Duration.ofSeconds(60);
    private Clock clock = SystemClock.INSTANCE;
    private MeterRegistry meterRegistry;
    private Path checkpointDir;
    private boolean backpressure;
    private boolean exactlyOnce;
    private int stateSnapshotInterval = 10;
    private boolean dropOrphanedState;
    private Duration blockInterval = Duration.ofMillis(200);
    private long receiverMaxRate;
    private boolean receiverWriteAheadLog;
    private Integer statusPort;
    private String statusHost = "127.0.0.1";
    private String statusToken;
    private LeaderElection leaderElection;

    private Builder() {}

    /**
     * Serves a status page ({@code /}), a JSON API ({@code /api/v1/...}) and Prometheus metrics
     * ({@code /metrics}) on {@code port} of 127.0.0.1 (0: a free port, logged when bound). Off by
     * default. Needs {@code io.sluice:sluice-status} on the class path, which {@code build()}
     * checks; the server binds in {@code build()}, read-only, and stays up after the context stops
     * until closed with {@code SluiceStatus.close(context)} or the JVM exits.
     */
    public Builder statusServer(int port) {
      this.statusPort = port;
      return this;
    }

    /** As {@link #statusServer(int)}, bound to {@code host} instead of 127.0.0.1. */
    public Builder statusServer(String host, int port) {
      this.statusHost = host;
      this.statusPort = port;
      return this;
    }

    /**
     * A bearer token every request to the status server must carry ({@code Authorization: Bearer
     * <token>}); requests without it get 401. Default: none.
     */
    public Builder statusToken(String token) {
      this.statusToken = token;
      return this;
    }

    /** Application name (required): tags meters, names logs and, later, transactional ids. */
    public Builder appName(String appName) {
      this.appName = appName;
      return this;
    }

    /** Batch interval (required, > 0, whole milliseconds). */
    public Builder batchInterval(Duration batchInterval) {
      this.batchInterval = batchInterval;
      return this;
    }

    /** Task slots, like {@code local[N]} (default: available processors). */
    public Builder parallelism(int parallelism) {
      this.parallelism = parallelism;
      return this;
    }

    /** Output-operation jobs of one batch that may run at once (default 1: one after another). */
    public Builder concurrentJobs(int concurrentJobs) {
      this.concurrentJobs = concurrentJobs;
      return this;
    }

    /** Attempts per task before the job fails (default 4). */
    public Builder maxTaskAttempts(int maxTaskAttempts) {
      this.maxTaskAttempts = maxTaskAttempts;
      return this;
    }

    /**
     * How long {@link StreamingContext#stop(boolean)} waits for the context to terminate before it
     * throws (default 60 s; > 0). A graceful stop runs every batch already due within it.
     */
    public Builder stopTimeout(Duration stopTimeout) {
      this.stopTimeout = stopTimeout;
      return this;
    }

    /** Clock driving batches (default {@link SystemClock}); tests pass a {@link ManualClock}. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Registry for the {@code sluice.*} meters. Default: a new {@code SimpleMeterRegistry} private
     * to the context; pass {@code Metrics.globalRegistry} or your own registry to publish them.
     */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = meterRegistry;
      return this;
    }

    /** Directory for the batch log, commit log and state (optional). */
    public Builder checkpointDir(Path checkpointDir) {
      // A checkpoint directory holds the batch log (every batch's plan, fsynced before it runs) and
      // the
      // commit log; on start the context replays planned but uncommitted batches from it.
      this.checkpointDir = checkpointDir;
      return this;
    }

    /**
     * Requires end-to-end exactly-once (default false): {@link StreamingContext#start()} then
     * refuses, naming the missing piece, unless a checkpoint directory is set and every output
     * operation is a {@link BatchOutput} whose guarantee is {@link DeliveryGuarantee#EXACTLY_ONCE}
     * or {@link DeliveryGuarantee#IDEMPOTENT} and which reports no {@link
     * BatchOutput#exactlyOnceGaps() gaps}.
     */
    public Builder exactlyOnce(boolean exactlyOnce) {
      this.exactlyOnce = exactlyOnce;
      return this;
    }

    /**
     * Every how many batches (default 10) each state partition writes a snapshot of its whole state
     * under the checkpoint directory, besides the delta every batch writes; recovery reads the
     * newest snapshot and the deltas after it.
     */
    public Builder stateSnapshotInterval(int batches) {
      this.stateSnapshotInterval = batches;
      return this;
    }

    /**
     * Whether {@link StreamingContext#start()} deletes, with a warning, the state the checkpoint
     * holds for state operators the application no longer has (renamed or removed); default false:
     * start fails naming them.
     */
    public Builder dropOrphanedState(boolean drop) {
      this.dropOrphanedState = drop;
      return this;
    }

    /**
     * How often each receiver's single stored records are cut into a block (default 200 ms); a
     * batch reads the blocks cut before it.
     */
    public Builder blockInterval(Duration interval) {
      this.blockInterval = interval;
      return this;
    }

    /**
     * The most records per second each receiver stores (default 0: no limit); {@code store} waits
     * beyond it. With backpressure the estimated rate applies, capped by this.
     */
    public Builder receiverMaxRate(long recordsPerSecond) {
      this.receiverMaxRate = recordsPerSecond;
      return this;
    }

    /**
     * Whether every block a receiver stores is first appended to a checksummed write-ahead log
     * under {@code checkpointDir/receivers/<stream>/} and fsynced (default false): {@code store}
     * returns once the block is durable, and a restart replays uncommitted batches with the same
     * blocks read back from the log. Requires a checkpoint directory; {@code exactlyOnce(true)}
     * requires it for a receiver stream.
     */
    public Builder receiverWriteAheadLog(boolean on) {
      this.receiverWriteAheadLog = on;
      return this;
    }

    /**
     * Runs this context as one of several processes of a single-driver application, of which one,
     * elected by {@code election}, runs batches while the others wait as standbys (default: none,
     * the context runs at once). See {@link LeaderElection} and {@link StreamingContext#start()}.
     *
     * <p>When the leader's process dies or loses its session, a standby starts from the committed
     * offsets within about the election's session timeout plus one batch. A leader that loses the
     * leadership stops at once without committing further batches, and {@link
     * StreamingContext#awaitTermination()} throws {@link LeadershipLostException}: exit the process
     * and let its supervisor start it again, as a standby. The offset store is the truth: give each
     * process its own checkpoint directory; the inputs continue from the store's positions. The
     * context owns the election from {@link StreamingContext#start()} on and closes it when it
     * stops.
     */
    public Builder leaderElection(LeaderElection election) {
      this.leaderElection = election;
      return this;
    }

    /** Turns on the PID rate estimator, whose rates reach the inputs (default false). */
    public Builder backpressure(boolean backpressure) {
      this.backpressure = backpressure;
      return this;
    }

    /**
     * Validates every setting and builds the context.
     *
     * @throws IllegalArgumentException naming the first invalid setting and its value
     */
    public StreamingContext build() {
      if (appName == null || appName.isBlank()) {
        throw new IllegalArgumentException(
            "appName must be set and not blank, was "
                + (appName == null ? "null" : "'" + appName + "'"));
      }
      if (batchInterval == null) {
        throw new IllegalArgumentException("batchInterval must be set, was null");
      }
      if (batchInterval.isNegative() || batchInterval.isZero()) {
        throw new IllegalArgumentException("batchInterval must be > 0, was " + batchInterval);
      }
      if (batchInterval.toNanos() % 1_000_000 != 0) {
        throw new IllegalArgumentException(
            "batchInterval must be whole milliseconds, was " + batchInterval);
      }
      if (parallelism <= 0) {
        throw new IllegalArgumentException("parallelism must be > 0, was " + parallelism);
      }
      if (concurrentJobs <= 0) {
        throw new IllegalArgumentException("concurrentJobs must be > 0, was " + concurrentJobs);
      }
      if (maxTaskAttempts <= 0) {
        throw new IllegalArgumentException("maxTaskAttempts must be > 0, was " + maxTaskAttempts);
      }
      if (stopTimeout == null || stopTimeout.isNegative() || stopTimeout.isZero()) {
        throw new IllegalArgumentException("stopTimeout must be > 0, was " + stopTimeout);
      }
      if (clock == null) {
        throw new IllegalArgumentException("clock must not be null, was null");
      }
      if (blockInterval == null || blockInterval.toMillis() <= 0) {
        throw new IllegalArgumentException("blockInterval must be >= 1 ms, was " + blockInterval);
      }
      if (receiverWriteAheadLog && checkpointDir == null) {
        throw new IllegalArgumentException(
            "receiverWriteAheadLog(true) needs a checkpointDir, where the log is kept; none is set");
      }
      if (receiverMaxRate < 0) {
        throw new IllegalArgumentException("receiverMaxRate must be >= 0, was " + receiverMaxRate);
      }
      if (stateSnapshotInterval <= 0) {
        throw new IllegalArgumentException(
            "stateSnapshotInterval must be > 0, was " + stateSnapshotInterval);
      }
      StatusServer status = openStatusServer();
      try {
        StreamingContext ctx = new StreamingContext(this, status);
        if (status != null) {
          status.attach(ctx, StatusHook.engineStatus(ctx.runtime));
        }
        return ctx;
      } catch (RuntimeException | Error e) {
        if (status != null) {
          status.close();
        }
        throw e;
      }
    }

    private StatusServer openStatusServer() {
      if (statusPort == null) {
        if (statusToken != null) {
          throw new IllegalArgumentException(
              "statusToken is set but statusServer is not; set statusServer(port) too");
        }
        return null;
      }
      if (statusPort < 0 || statusPort > 65_535) {
        throw new IllegalArgumentException(
            "statusServer port must be in 0..65535, was " + statusPort);
      }
      if (statusHost == null || statusHost.isBlank()) {
        throw new IllegalArgumentException(
            "statusServer host must not be blank, was "
                + (statusHost == null ? "null" : "'" + statusHost + "'"));
      }
      if (statusToken != null
          && (statusToken.isBlank() || !statusToken.strip().equals(statusToken))) {
        throw new IllegalArgumentException(
            "statusToken must not be blank nor start or end with white space (value not shown)");
      }
      return StatusHook.open(
          new StatusSettings(
              appName, batchInterval, statusHost, statusPort, Optional.ofNullable(statusToken)));
    }
  }
}
