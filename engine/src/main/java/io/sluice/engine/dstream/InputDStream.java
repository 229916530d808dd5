package io.sluice.engine.dstream;

import io.sluice.engine.Batch;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The input SPI: a source of batches. For every batch the engine, on its driver threads,
 * <ol>
 *   <li>calls {@link #plan(long, Instant)} on every input, in registration order, and records the plans
 *       (the batch log, in exactly-once mode, persists them before anything runs);</li>
 *   <li>calls {@link #compute(long, Instant, Object)} to build the batch's RDD from the plan (also for a
 *       batch recovered from the batch log after a restart);</li>
 *   <li>runs one job per output operation;</li>
 *   <li>when all succeeded, calls {@link #commit(Batch, Object)} on every input, then marks the batch
 *       committed. A failed batch commits nothing.</li>
 * </ol>
 * Plans must be Jackson-(de)serializable values of {@link #planType()}; a plan fully determines the
 * batch's data, so a replay reads exactly the same records.
 *
 * <p>Threads: {@code plan}, {@code compute}, {@code restore}, {@code start} run on the
 * {@code sluice-job-generator} thread; {@code commit}, {@code onRateUpdate}, {@code isExhausted} on the job
 * scheduler thread; {@code stop} on the thread stopping the context. Calls never overlap for one batch and
 * happen in batch order (plan of batch n+1 may run while batch n's jobs run).
 *
 * @param <T> element type
 * @param <P> plan type
 */
public abstract class InputDStream<T, P> extends DStream<T> {

  private final String inputName;
  private final Class<P> planType;

  /**
   * Registers the input with {@code ctx}.
   *
   * @param ctx      the context
   * @param name     stable name, unique among the context's inputs (plans are keyed by it)
   * @param planType the plan's class, Jackson-(de)serializable
   * @throws IllegalArgumentException if the name is blank or already used by another input
   * @throws IllegalStateException    if the context has started or stopped
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
   * Inputs keep the name given at construction.
   *
   * @throws UnsupportedOperationException when {@code newName} differs from the input's name
   */
  @Override
  public final DStream<T> name(String newName) {
    if (inputName != null && !inputName.equals(newName)) {
      throw new UnsupportedOperationException("input '" + inputName + "' cannot be renamed to '" + newName
          + "': input names are fixed at construction");
    }
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
    // Input RDDs are put in place by the engine when the batch is planned; other times have none.
    return Optional.empty();
  }

  /**
   * Plans batch {@code batchId}: what it will read. Driver thread, once per batch, in batch order.
   *
   * @return the plan, never null (an input with nothing to read returns an empty plan)
   */
  public abstract P plan(long batchId, Instant batchTime);

  /**
   * Builds the batch's RDD from {@code plan}, for a fresh batch and for one recovered from the batch log.
   * Must not read anything the plan does not determine.
   */
  public abstract RDD<T> compute(long batchId, Instant batchTime, P plan);

  /**
   * Called once at start when recovering, with the plan of the newest batch in the batch log, so that
   * the next plan continues after it. Default: nothing.
   */
  public void restore(long batchId, P lastPlan) {
  }

  /** Records the plan covers, for listeners, metrics and the rate estimator; -1 when unknown. */
  public long recordCount(P plan) {
    return -1;
  }

  /**
   * After every output operation of the batch succeeded, before the batch is marked committed. Must be
   * idempotent: it is called again when a recovered batch is replayed. Default: nothing.
   */
  public void commit(Batch batch, P plan) {
  }

  /** The rate estimator's latest rate for this input, in records/s (only with backpressure on). */
  public void onRateUpdate(long recordsPerSecond) {
  }

  /**
   * The highest batch id this input's offset store holds as committed, or empty when it keeps none.
   * Called once at start, on the job generator thread, after {@link #start()}: new batches get ids
   * above it, so a pipeline whose checkpoint directory was removed never reuses a batch id that an
   * offset store or a transactional sink already holds (they would refuse or skip the batch).
   */
  public OptionalLong lastCommittedBatchId() {
    return OptionalLong.empty();
  }

  /**
   * True once the input will never produce records again. When every input is exhausted after a committed
   * batch, the context stops gracefully by itself.
   */
  public boolean isExhausted() {
    return false;
  }

  /** Called when the context starts, before the first plan. */
  public void start() {
  }

  /** Called when the context stops, after the last batch ran. Must be idempotent. */
  public void stop() {
  }
}
