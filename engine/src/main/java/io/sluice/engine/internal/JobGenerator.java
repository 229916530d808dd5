package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.Clock;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.internal.StateDirectories;
import io.sluice.engine.state.internal.StateOperator;
import io.sluice.engine.state.internal.StateOperatorMeters;
import io.sluice.engine.state.internal.StateStoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code sluice-job-generator} thread: at every batch time of the clock, plans the batch on
 * every input, logs it, instantiates the graph and hands the batch to the job scheduler. It never
 * waits for batches to run, so a slow batch delays the next one's start (scheduling delay) but
 * never skips it.
 */
final class JobGenerator {

  private static final Logger LOG = LoggerFactory.getLogger(JobGenerator.class);

  private final EngineRuntime rt;
  private final Clock clock;
  private final Duration interval;
  private final Object lock = new Object();
  private Thread thread;
  private boolean waiting;
  private boolean stopRequested;
  private boolean graceful;
  private Instant stopTime;
  private long nextBatchId;
  private Instant nextTime;

  JobGenerator(EngineRuntime rt) {
    this.rt = rt;
    this.clock = rt.clock();
    this.interval = rt.batchInterval();
  }

  private List<Batch> replay = List.of();
  // The last committed batch: the inputs' committed progress, else the checkpoint's (prepare only).
  private long committedTruth = -1;

  /**
   * Recovers, validates and prepares the graph, starts the inputs and reconciles them with their
   * committed progress. Caller thread.
   */
  void prepare() {
    BatchJournal.Recovery recovery = rt.batchJournal().recover();
    long intervalMs = interval.toMillis();
    long nowMs = clock.now().toEpochMilli();
    // Batch times sit on a grid of the interval since the epoch, across restarts too.
    Instant first =
        Instant.ofEpochMilli(Math.floorDiv(nowMs, intervalMs) * intervalMs + intervalMs);
    Instant zero = first.minus(interval);
    List<Batch> uncommitted = recovery.uncommitted();
    if (!uncommitted.isEmpty()) {
      Instant oldest = uncommitted.get(0).time();
      if (oldest.minus(interval).isBefore(zero)) {
        zero = oldest.minus(interval);
      }
    }
    if (!recovery.planned().isEmpty()) {
      Batch latest = recovery.planned().get(recovery.planned().size() - 1);
      if (!latest.time().isBefore(first)) {
        first = latest.time().plus(interval);
      }
    }
    rt.graph().prepare(zero, interval);
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      in.start();
    }
    nextBatchId = recovery.lastId() + 1;
    OptionalLong replayFrom = reconcile(recovery);
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      in.resume(replayFrom.isPresent());
    }
    nextTime = first;
    long from = replayFrom.orElse(Long.MAX_VALUE);
    replay = recovery.planned().stream().filter(b -> b.id() >= from).toList();
    prepareWindows(recovery, zero, replay.isEmpty() ? first : replay.get(0).time());
    openState(recovery);
  }

  /**
   * Brings every state operator to the batch where the inputs' committed progress stands (see
   * "State" in the README); refuses orphaned state unless the context drops it.
   */
  private void openState(BatchJournal.Recovery recovery) {
    List<StateOperator<?, ?>> operators = rt.stateOperators();
    Optional<Path> root = rt.context().checkpointDir().map(d -> d.resolve("state"));
    if (root.isPresent() && Files.isDirectory(root.get())) {
      Set<String> names = new HashSet<>();
      operators.forEach(op -> names.add(op.name()));
      StateDirectories.checkOrphans(root.get(), names, rt.context().dropOrphanedState());
    }
    if (operators.isEmpty()) {
      return;
    }
    int interval = rt.context().stateSnapshotInterval();
    StateStoreSettings settings =
        StateStoreSettings.defaults()
            .withSnapshotInterval(interval)
            .withRetainVersions(2 * interval);
    boolean history = recovery.lastCommitted() >= 0 || !recovery.planned().isEmpty();
    for (StateOperator<?, ?> op : operators) {
      op.open(root.orElse(null), committedTruth, settings, history);
      StateOperatorMeters.register(rt.context().meterRegistry(), rt.context().appName(), op);
      if (op.followsSources()) {
        continue; // it logged where its state comes from
      }
      LOG.info(
          "state operator '{}': {} partitions at batch {}",
          op.name(),
          op.numPartitions(),
          committedTruth);
    }
  }

  /**
   * Sets the graph's zero time so that windows fire at multiples of their slides since the epoch,
   * the same times in every run, early enough for the longest window to reach back from {@code
   * firstRun}; and hands each input the committed batches before the restart that windows read
   * again, so that a window spanning a restart holds what it held before.
   */
  private void prepareWindows(BatchJournal.Recovery recovery, Instant zero, Instant firstRun) {
    Duration reach = rt.graph().inputReach();
    long period = rt.graph().slidesPeriodMillis(interval);
    Instant earliest = zero.isBefore(firstRun.minus(interval)) ? zero : firstRun.minus(interval);
    long zeroMs = Math.floorDiv(earliest.minus(reach).toEpochMilli(), period) * period;
    rt.graph().initialize(Instant.ofEpochMilli(zeroMs));
    if (reach.isZero()) {
      return;
    }
    rt.batchJournal().retainCommitted((int) (reach.toMillis() / interval.toMillis()) + 2);
    Instant from = firstRun.minus(reach);
    List<Batch> past =
        recovery.planned().stream()
            .filter(b -> b.id() <= committedTruth)
            .filter(b -> !b.time().isBefore(from) && b.time().isBefore(firstRun))
            .toList();
    if (past.isEmpty()) {
      return;
    }
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      givePastBatches(in, past);
    }
  }

  @SuppressWarnings("unchecked")
  private static <P> void givePastBatches(InputDStream<?, P> in, List<Batch> past) {
    List<InputDStream.Planned<P>> planned = new ArrayList<>();
    for (Batch b : past) {
      Object plan = b.plans().get(in.name());
      if (plan != null) {
        planned.add(new InputDStream.Planned<>(b.id(), b.time(), (P) plan));
      }
    }
    List<InputDStream.Planned<P>> kept = in.pastBatches(List.copyOf(planned));
    if (kept.size() < planned.size()) {
      LOG.warn(
          "input {}: windows start without {} of the {} committed batches before the restart (batches"
              + " {}..{}): the input continues from a position they do not lead to",
          in.name(),
          planned.size() - kept.size(),
          planned.size(),
          planned.get(0).batchId(),
          planned.get(planned.size() - 1).batchId());
    }
    if (!kept.isEmpty()) {
      LOG.info(
          "input {}: windows read committed batches {}..{} again from their plans",
          in.name(),
          kept.get(0).batchId(),
          kept.get(kept.size() - 1).batchId());
    }
    DStreamAccess.get().pastBatches(in, kept);
  }

  /**
   * Asks every input where its committed progress stands and decides what to replay: the planned
   * batches from the first one every input agrees on, or nothing. Batches that will never run are
   * marked dropped in the journal; new batch ids continue after the checkpoint's and every input's
   * committed ids.
   */
  private OptionalLong reconcile(BatchJournal.Recovery recovery) {
    Map<String, OptionalLong> views = new LinkedHashMap<>();
    long inputsCommitted = Long.MAX_VALUE;
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      InputDStream.Recovered r = recover(in, recovery);
      views.put(in.name(), r.replayFrom());
      if (r.committedBatchId().isPresent()) {
        inputsCommitted = Math.min(inputsCommitted, r.committedBatchId().getAsLong());
      }
      if (r.committedBatchId().isPresent() && r.committedBatchId().getAsLong() >= nextBatchId) {
        LOG.info(
            "input {} has committed batch {}; new batches continue after it",
            in.name(),
            r.committedBatchId().getAsLong());
        nextBatchId = r.committedBatchId().getAsLong() + 1;
      }
    }
    // The inputs that keep committed progress are the truth; without any, the checkpoint is.
    committedTruth = inputsCommitted == Long.MAX_VALUE ? recovery.lastCommitted() : inputsCommitted;
    Set<OptionalLong> distinct = new HashSet<>(views.values());
    OptionalLong replayFrom =
        distinct.size() == 1 ? distinct.iterator().next() : OptionalLong.empty();
    if (distinct.size() > 1) {
      LOG.warn(
          "inputs disagree on the first planned batch to replay ({}); no planned batch is replayed and every"
              + " input continues from its committed position",
          views);
    }
    List<Batch> uncommitted = recovery.uncommitted();
    long dropThrough = replayFrom.isPresent() ? replayFrom.getAsLong() - 1 : recovery.lastId();
    if (!uncommitted.isEmpty() && uncommitted.get(0).id() <= dropThrough) {
      LOG.warn(
          "planned batches {}..{} of the checkpoint are not replayed: the inputs' committed progress already"
              + " covers them or does not continue into them",
          uncommitted.get(0).id(),
          dropThrough);
      rt.batchJournal().dropped(dropThrough);
    }
    return replayFrom;
  }

  @SuppressWarnings("unchecked")
  private static <P> InputDStream.Recovered recover(
      InputDStream<?, P> in, BatchJournal.Recovery recovery) {
    List<InputDStream.Planned<P>> planned = new ArrayList<>();
    for (Batch b : recovery.planned()) {
      Object plan = b.plans().get(in.name());
      if (plan != null) {
        planned.add(new InputDStream.Planned<>(b.id(), b.time(), (P) plan));
      }
    }
    InputDStream.Recovered r = in.recover(planned, recovery.lastCommitted());
    if (r == null) {
      throw new NullPointerException("input '" + in.name() + "' returned a null recovery");
    }
    return r;
  }

  /** Starts the generator thread. */
  void launch() {
    List<Batch> toReplay = replay;
    thread = EngineThreads.newThread("sluice-job-generator", false, () -> run(toReplay));
    thread.start();
  }

  private void run(List<Batch> replay) {
    try {
      for (Batch b : replay) {
        LOG.info("replaying uncommitted batch {} at {}", b.id(), b.time());
        submit(b);
      }
      while (awaitBatchTime(nextTime)) {
        generate(nextTime);
        nextTime = nextTime.plus(interval);
      }
      boolean finish;
      Instant until;
      synchronized (lock) {
        finish = graceful;
        until = stopTime;
      }
      while (finish && until != null && !nextTime.isAfter(until) && !rt.failed()) {
        generate(nextTime);
        nextTime = nextTime.plus(interval);
      }
    } catch (BatchFailedException e) {
      rt.fail(e, null);
    } catch (RuntimeException | Error e) {
      rt.fail(new BatchFailedException(nextBatchId, "job generator", -1, e), null);
    } finally {
      rt.scheduler().noMoreBatches();
    }
  }

  private boolean awaitBatchTime(Instant t) {
    synchronized (lock) {
      if (stopRequested) {
        return false;
      }
      waiting = true;
    }
    try {
      clock.waitUntil(t);
    } catch (InterruptedException e) {
      // Only stop() interrupts this thread, and only while waiting.
    } finally {
      synchronized (lock) {
        waiting = false;
      }
      Thread.interrupted();
    }
    synchronized (lock) {
      return !stopRequested || (graceful && !t.isAfter(stopTime));
    }
  }

  private void generate(Instant time) {
    long id = nextBatchId;
    Map<String, Object> plans = new LinkedHashMap<>();
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      Object plan;
      try {
        plan = in.plan(id, time);
      } catch (RuntimeException e) {
        throw new BatchFailedException(id, "plan of input '" + in.name() + "'", -1, e);
      }
      if (plan == null) {
        throw new BatchFailedException(
            id,
            "plan of input '" + in.name() + "'",
            -1,
            new NullPointerException(
                "input '" + in.name() + "' returned a null plan for batch " + id));
      }
      plans.put(in.name(), plan);
    }
    Batch batch = new Batch(id, time, plans);
    rt.batchJournal().planned(batch);
    nextBatchId = id + 1;
    submit(batch);
  }

  /** Instantiates the graph for {@code batch} and queues it. */
  private void submit(Batch batch) {
    rt.graph().clearOld(batch.time());
    rt.graph().batchPlanned(batch);
    List<InputDStream<?, ?>> inputs = rt.graph().inputs();
    long[] counts = new long[inputs.size()];
    long total = 0;
    for (int i = 0; i < inputs.size(); i++) {
      InputDStream<?, ?> in = inputs.get(i);
      Object plan = batch.plans().get(in.name());
      try {
        counts[i] = instantiate(in, batch, plan);
      } catch (RuntimeException e) {
        throw new BatchFailedException(batch.id(), "compute of input '" + in.name() + "'", -1, e);
      }
      if (counts[i] > 0) {
        total += counts[i];
      }
    }
    List<io.sluice.engine.dstream.internal.OutputOperation.Job> jobs;
    try {
      jobs = rt.graph().jobsFor(batch);
    } catch (RuntimeException e) {
      throw new BatchFailedException(batch.id(), "instantiating the graph", -1, e);
    }
    Instant now = clock.now();
    BatchWork work = new BatchWork(batch, jobs, counts, total, now);
    BatchInfo info =
        new BatchInfo(
            batch.id(),
            batch.time(),
            total,
            now,
            Optional.empty(),
            Optional.empty(),
            work.inputRecordsByName(inputs));
    rt.listeners().post(l -> l.onBatchSubmitted(info));
    rt.scheduler().submit(work);
  }

  @SuppressWarnings("unchecked")
  private static <T, P> long instantiate(InputDStream<T, P> in, Batch batch, Object plan) {
    P p = (P) plan;
    RDD<T> rdd = in.compute(batch.id(), batch.time(), p);
    if (rdd == null) {
      throw new NullPointerException(
          "input '" + in.name() + "' returned a null RDD for batch " + batch.id());
    }
    DStreamAccess.get().put(in, batch.time(), rdd);
    return in.recordCount(p);
  }

  /**
   * Asks the thread to stop; graceful also generates every batch whose time is at or before now.
   */
  void requestStop(boolean gracefully) {
    synchronized (lock) {
      if (!stopRequested) {
        stopRequested = true;
        graceful = gracefully;
        stopTime = clock.now();
      } else if (!gracefully) {
        graceful = false;
      }
      if (waiting && thread != null) {
        thread.interrupt();
      }
    }
  }

  /** Waits for the thread to end. */
  void join() throws InterruptedException {
    if (thread != null && thread != Thread.currentThread()) {
      thread.join();
    }
  }
}
