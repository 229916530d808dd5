package io.sluice.engine.dstream;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * The input SPI: a source of batches. For every batch the engine, on its driver threads,
 *
 * <ol>
 *   <li>calls {@link #plan(long, Instant)} on every input, in registration order, and records the
 *       plans (the batch log, in exactly-once mode, persists them before anything runs);
 *   <li>calls {@link #compute(long, Instant, Object)} to build the batch's RDD from the plan (also
 *       for a batch recovered from the batch log after a restart);
 *   <li>runs one job per output operation;
 *   <li>when all succeeded, calls {@link #commit(Batch, Object)} on every input (or {@link
 *       #committedByOutput} when a transactional output committed its offsets), then marks the
 *       batch committed. A failed batch commits nothing.
 * </ol>
 *
 * Plans must be Jackson-(de)serializable values of {@link #planType()}; a plan fully determines the
 * batch's data, so a replay reads exactly the same records.
 *
 * <p>Threads: {@code plan}, {@code compute}, {@code recover}, {@code resume}, {@code restore},
 * {@code start} run on the {@code sluice-job-generator} thread; {@code commit}, {@code
 * onRateUpdate}, {@code isExhausted} on the job scheduler thread; {@code stop} on the thread
 * stopping the context. Calls never overlap for one batch and happen in batch order (plan of batch
 * n+1 may run while batch n's jobs run).
 *
 * @param <T> element type
 * @param <P> plan type
 */
public abstract class InputDStream<T, P> extends DStream<T> {

  private volatile String inputName;
  private final Class<P> planType;
  private Planned<P> newestPlanned;
  // Committed batches before this start that windows may read again; job generator thread.
  NavigableMap<Instant, Planned<P>> pastBatches = new TreeMap<>();

  /**
   * One batch of the checkpoint's batch log, as this input planned it.
   *
   * @param batchId the batch id
   * @param time the batch time
   * @param plan this input's plan of the batch
   * @param <P> plan type
   */
  public record Planned<P>(long batchId, Instant time, P plan) {}

  /**
   * What an input found at start.
   *
   * @param replayFrom the id of the first planned batch to replay (every later planned batch
   *     follows), or empty when nothing is to be replayed
   * @param committedBatchId the last batch id the input's committed progress holds, or empty when
   *     it keeps none; new batches get ids above it
   */
  public record Recovered(OptionalLong replayFrom, OptionalLong committedBatchId) {

    /** Validates the fields. */
    public Recovered {
      Objects.requireNonNull(replayFrom, "replayFrom");
      Objects.requireNonNull(committedBatchId, "committedBatchId");
    }

    /** Replay the planned batches from {@code batchId} on. */
    public static Recovered replayFrom(long batchId, OptionalLong committedBatchId) {
      return new Recovered(OptionalLong.of(batchId), committedBatchId);
    }

    /** Replay nothing; continue from the committed position. */
    public static Recovered nothingToReplay(OptionalLong committedBatchId) {
      return new Recovered(OptionalLong.empty(), committedBatchId);
    }
  }

  /**
   * Registers the input with {@code ctx}.
   *
   * @param ctx the context
   * @param name stable name, unique among the context's inputs (plans are keyed by it)
   * @param planType the plan's class, Jackson-(de)serializable
   * @throws IllegalArgumentException if the name is blank or already used by another input
   * @throws IllegalStateException if the context has started or stopped
   */
  protected InputDStream(StreamingContext ctx, String name, Class<P> planType) {
    super(ctx, requireName(name));
    this.inputName = name;
    this.planType = Objects.requireNonNull(planType, "planType");
    super.name(name);
    EngineAccess.runtime(ctx).graph().checkInputName(this);
  }

  private static String requireName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("input name must not be blank, was '" + name + "'");
    }
    return "input";
  }

  /** The input's stable name (plans are keyed by it in {@link Batch#plans()}). */
  @Override
  public final String name() {
    return inputName;
  }

  /**
   * Renames the input before start. The name keys the input's plans in the batch log, so a
   * checkpoint written under the old name is not recovered under the new one; keep it stable across
   * versions of an application.
   *
   * @throws IllegalArgumentException when another input of the context has the name, or it is blank
   * @throws IllegalStateException after start
   */
  @Override
  public final DStream<T> name(String newName) {
    if (inputName == null || inputName.equals(newName)) {
      return this;
    }
    if (newName == null || newName.isBlank()) {
      throw new IllegalArgumentException("input name must not be blank, was '" + newName + "'");
    }
    EngineAccess.runtime(context()).graph().requireUniqueInputName(this, newName);
    inputName = newName;
    super.name(newName);
    return this;
  }

  /** The plan's class. */
  public Class<P> planType() {
    return planType;
  }

  @Override
  public final List<DStream<?>> dependencies() {
    return List.of();
  }

  @Override
  public final Duration slideDuration() {
    return context().batchInterval();
  }

  @Override
  protected final Optional<RDD<T>> compute(Instant time) {
    // Input RDDs are put in place by the engine when the batch is planned; a window reaching back
    // past a restart rebuilds a committed batch's RDD from its plan; other times have none.
    Planned<P> past = pastBatches.get(time);
    return past == null
        ? Optional.empty()
        : Optional.of(compute(past.batchId(), past.time(), past.plan()));
  }

  /**
   * After a restart, of the committed batches before it (oldest first, within the reach of the
   * application's longest window), those whose data this input can read again exactly from their
   * plans, so that windows over this input are rebuilt as they were: {@link #compute(long, Instant,
   * Object)} is then called for them, lazily, when a window needs them. Called once at start, after
   * {@link #resume}, on the job generator thread. Return a suffix of {@code committed} (the batches
   * right before the position the input continues from), or nothing when the input continues from a
   * position those batches do not lead to (a reset). Default: all of them.
   */
  public List<Planned<P>> pastBatches(List<Planned<P>> committed) {
    return committed;
  }

  /**
   * Plans batch {@code batchId}: what it will read. Driver thread, once per batch, in batch order.
   *
   * @return the plan, never null (an input with nothing to read returns an empty plan)
   */
  public abstract P plan(long batchId, Instant batchTime);

  /**
   * Builds the batch's RDD from {@code plan}, for a fresh batch and for one recovered from the
   * batch log. Must not read anything the plan does not determine.
   */
  public abstract RDD<T> compute(long batchId, Instant batchTime, P plan);

  /**
   * Continues after {@code lastPlan}, the plan of batch {@code batchId}: the next plan starts where
   * it ended. Called by the default {@link #resume(boolean)}. Default: nothing.
   */
  public void restore(long batchId, P lastPlan) {}

  /**
   * Reconciles the input with its committed progress, once at start, after {@link #start()} and
   * before any plan, on the job generator thread. {@code planned} holds every batch of the
   * checkpoint's batch log that carries a plan of this input, oldest first, whether the
   * checkpoint's commit log marks it committed or not; {@code checkpointLastCommitted} is the
   * commit log's last id (-1 when none).
   *
   * <p>An input that keeps its position in an offset store must treat that store as the truth:
   * replay a planned batch only if its plan begins exactly where the store stands, never one the
   * store already covers, and otherwise continue from the store (see "Where progress lives" in the
   * design). The default, for inputs that keep no committed position, trusts the checkpoint: it
   * replays every batch above the commit log's last id.
   *
   * @return the first planned batch to replay (all later ones follow), or none, and the last batch
   *     id the input's committed progress holds
   */
  public Recovered recover(List<Planned<P>> planned, long checkpointLastCommitted) {
    newestPlanned = planned.isEmpty() ? null : planned.get(planned.size() - 1);
    for (Planned<P> p : planned) {
      if (p.batchId() > checkpointLastCommitted) {
        return Recovered.replayFrom(p.batchId(), OptionalLong.empty());
      }
    }
    return Recovered.nothingToReplay(OptionalLong.empty());
  }

  /**
   * Called once after {@link #recover}, with the engine's decision: {@code replaying} when the
   * batches from the input's {@code replayFrom} on are replayed (the engine replays only when every
   * input agreed on the same first batch), false when nothing is replayed. The next plan must
   * continue after the newest planned batch when replaying, and from the committed position
   * otherwise. Default: continue after the newest planned batch through {@link #restore}.
   */
  public void resume(boolean replaying) {
    Planned<P> newest = newestPlanned;
    newestPlanned = null;
    if (newest != null) {
      restore(newest.batchId(), newest.plan());
    }
  }

  /**
   * Where this input commits its offsets, or empty when it keeps no committed position. When an
   * output commits to the same target inside its transaction, the engine calls {@link
   * #committedByOutput} instead of {@link #commit}: one committer per batch.
   */
  public Optional<CommitTarget> offsetCommitTarget() {
    return Optional.empty();
  }

  /**
   * Whether this input's plans are {@link io.sluice.engine.SequencedPlan}s: it keeps no position of
   * its own, and an output that {@link BatchOutput#commitsSequences() commits sequences} commits
   * its progress with the batch (then {@link #committedBy} names that output before {@link
   * #start()}). Default false.
   */
  public boolean sequenced() {
    return false;
  }

  /**
   * Called first by a graceful stop, before the last batches are planned: an input that receives
   * pushed data stops receiving and keeps what it holds for those batches. Stopper thread. Default:
   * nothing.
   */
  public void stopReceiving() {}

  /**
   * Called once by {@code start()}, before the outputs are opened and before {@link #start()}, when
   * {@code output} commits this input's offsets inside its own transaction (see {@link
   * BatchOutput#offsetCommitTarget()}). An input may hand that output work that must share its
   * transaction: the Kafka direct stream gives an exactly-once Kafka sink its dead letters, and in
   * group mode its member. Thread calling {@code start()}. Default: nothing.
   */
  public void committedBy(BatchOutput<?> output) {}

  /**
   * After every output operation of the batch succeeded, when an output already committed this
   * input's offsets inside its own transaction; the input must not write them again. Job scheduler
   * thread. Default: nothing.
   */
  public void committedByOutput(Batch batch, P plan) {}

  /**
   * Whether this process shares the input's partitions with other processes (the Kafka direct
   * stream in group mode), so that its batches hold only the partitions this process owns at the
   * time. {@code start()} then refuses keyed state and windows over it. Default: {@code false}.
   */
  public boolean sharesPartitions() {
    return false;
  }

  /** Records the plan covers, for listeners, metrics and the rate estimator; -1 when unknown. */
  public long recordCount(P plan) {
    return -1;
  }

  /**
   * After every output operation of the batch succeeded, before the batch is marked committed. Must
   * be idempotent: it is called again when a recovered batch is replayed. Default: nothing.
   */
  public void commit(Batch batch, P plan) {}

  /** The rate estimator's latest rate for this input, in records/s (only with backpressure on). */
  public void onRateUpdate(long recordsPerSecond) {}

  /**
   * True once the input will never produce records again. When every input is exhausted after a
   * committed batch, the context stops gracefully by itself.
   */
  public boolean isExhausted() {
    return false;
  }

  /** Called when the context starts, before the first plan. */
  public void start() {}

  /** Called when the context stops, after the last batch ran. Must be idempotent. */
  public void stop() {}
}
