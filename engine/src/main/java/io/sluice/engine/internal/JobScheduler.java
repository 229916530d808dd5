package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.Clock;
import io.sluice.engine.OutputOperationInfo;
import io.sluice.engine.TaskFailedException;
import io.sluice.engine.UserCodeException;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.internal.OutputOperation;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.internal.StateOperator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs queued batches one at a time, in batch order, on the {@code sluice-job-scheduler} thread:
 * each output operation's job on a {@code sluice-job-N} thread (up to {@code concurrentJobs} at
 * once, started in order; after a failure the jobs not yet started are skipped and the tasks of
 * those still running are cancelled), then, if all succeeded, the inputs' commits, the commit
 * journal, metrics, the rate controller and listeners. A failed batch commits nothing and fails the
 * context.
 *
 * <p>When every input commits its own offsets (no output commits them in its transaction, no keyed
 * state, no input in group mode or sequenced, no leader election), a batch's commit runs on the
 * {@code sluice-committer} thread while the next batch's jobs run: the commit is a broker or
 * database round trip or two (the group coordinator alone lingers about 5 ms per offset commit)
 * during which every task slot would otherwise idle. Commits stay in batch order and at most one is
 * in flight: a batch's commit starts only after the previous one ended, and none starts once the
 * context failed. A crash then replays at most the two batches not yet committed, as at-least-once
 * outputs allow; the batch is reported completed after its commit, as before.
 */
final class JobScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(JobScheduler.class);
  private static final BatchWork END =
      new BatchWork(
          new Batch(0, Instant.EPOCH, java.util.Map.of()),
          List.of(),
          new long[0],
          0,
          Instant.EPOCH);

  private final EngineRuntime rt;
  private final Clock clock;
  private final BlockingQueue<BatchWork> queue = new LinkedBlockingQueue<>();
  private final ExecutorService jobs;
  private final ExecutorService committer;

  /** Whether commits overlap the next batch's jobs (see the class comment); set by start(). */
  private boolean overlapCommits;

  /** The commit in flight on the committer thread, or null; scheduler thread only. */
  private Future<?> pendingCommit;

  private final RateController rateController;
  private Thread thread;
  private volatile boolean aborted;

  JobScheduler(EngineRuntime rt) {
    this.rt = rt;
    this.clock = rt.clock();
    this.jobs =
        Executors.newFixedThreadPool(
            rt.concurrentJobs(), EngineThreads.factory("sluice-job", false, i -> {}));
    this.rateController = rt.backpressure() ? new RateController(rt) : null;
    this.committer =
        Executors.newSingleThreadExecutor(
            r -> EngineThreads.newThread("sluice-committer", false, r));
  }

  void start() {
    overlapCommits = commitsMayOverlap(rt);
    thread = EngineThreads.newThread("sluice-job-scheduler", false, this::run);
    thread.start();
  }

  /** Queues a batch; job generator thread. */
  void submit(BatchWork work) {
    queue.add(work);
  }

  /** No batch will be queued after this; the thread ends after the queued ones. */
  void noMoreBatches() {
    queue.add(END);
  }

  /** Drops queued batches and interrupts the running one. */
  void abort() {
    aborted = true;
    queue.clear();
    queue.add(END);
    // shutdownNow hands back the jobs that never started; cancel them, or the scheduler thread
    // would
    // wait forever in runJobs on a future no thread will complete.
    for (Runnable neverStarted : jobs.shutdownNow()) {
      if (neverStarted instanceof Future<?> f) {
        f.cancel(false);
      }
    }
  }

  void join() throws InterruptedException {
    if (thread != null && thread != Thread.currentThread()) {
      thread.join();
    }
    jobs.shutdown();
    jobs.awaitTermination(10, TimeUnit.SECONDS);
    // A commit in flight ends before the outputs and inputs close; it is never interrupted.
    committer.shutdown();
    committer.awaitTermination(1, TimeUnit.MINUTES);
  }

  /**
   * Whether a batch's commit may run while the next batch's jobs run: only when the commit is the
   * inputs' own, touching nothing those jobs read. Not with an output committing offsets in its
   * transaction (its next job's commit is fenced on this one), keyed state (the next batch updates
   * the state this one commits), sequenced or group-mode inputs (their progress and partitions
   * follow the commit), or a leader election (a commit must follow the leadership check at once).
   */
  static boolean commitsMayOverlap(EngineRuntime rt) {
    if (rt.hasElection() || !rt.stateOperators().isEmpty()) {
      return false;
    }
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      if (in.sequenced()
          || in.sharesPartitions()
          || rt.commitOwnership().committerOf(in).isPresent()) {
        return false;
      }
    }
    return true;
  }

  private void run() {
    try {
      while (true) {
        BatchWork w = queue.take();
        if (w == END || aborted) {
          return;
        }
        process(w);
        if (rt.failed()) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      awaitPendingCommit();
      jobs.shutdown();
      committer.shutdown();
    }
  }

  /** Waits until the commit in flight, if any, has ended (its outcome is already recorded). */
  private void awaitPendingCommit() {
    Future<?> f = pendingCommit;
    if (f == null) {
      return;
    }
    pendingCommit = null;
    boolean interrupted = false;
    while (true) {
      try {
        f.get();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the commit is never abandoned half-way; wait for its end
      } catch (ExecutionException | CancellationException e) {
        LOG.error("the commit thread failed", e);
        break;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void process(BatchWork w) {
    Batch batch = w.batch();
    Instant start = clock.now();
    BatchInfo started =
        new BatchInfo(
            batch.id(),
            batch.time(),
            w.numRecords(),
            w.submissionTime(),
            Optional.of(start),
            Optional.empty(),
            w.inputRecordsByName(rt.graph().inputs()));
    rt.listeners().post(l -> l.onBatchStarted(started));
    // A process that lost the leadership runs nothing more: a transactional output commits in its
    // job.
    BatchFailedException failure =
        rt.mayCommit() ? runStateJobs(batch) : rt.leadershipLostAt(batch.id());
    if (failure == null) {
      failure = runJobs(w);
    }
    rt.graph().batchDone(batch.time());
    // The previous batch's commit ends first: commits and their reports stay in batch order.
    awaitPendingCommit();
    if (overlapCommits && (rt.failed() || aborted)) {
      LOG.info("batch {} abandoned uncommitted: the context is stopping", batch.id());
      return;
    }
    if (failure == null && overlapCommits) {
      try {
        pendingCommit =
            committer.submit(
                () -> {
                  if (rt.failed()) {
                    LOG.info("batch {} abandoned uncommitted: the context failed", batch.id());
                    return;
                  }
                  try {
                    commitAndReport(w, start, null);
                  } catch (RuntimeException e) {
                    rt.fail(new BatchFailedException(batch.id(), "commit", -1, e), null);
                  }
                });
        return;
      } catch (RejectedExecutionException e) {
        LOG.info("batch {} abandoned uncommitted: the context is stopping", batch.id());
        return;
      }
    }
    commitAndReport(w, start, failure);
  }

  /**
   * Commits a batch whose jobs all succeeded ({@code failure == null}) and reports it completed, or
   * reports its failure; the scheduler thread, or the committer thread when commits overlap.
   */
  private void commitAndReport(BatchWork w, Instant start, BatchFailedException failure) {
    Batch batch = w.batch();
    if (failure == null) {
      failure = commit(w);
    }
    if (failure != null && !rt.mayCommit()) {
      // The leadership went while the batch ran: that, not its symptom, stops the context.
      failure = rt.leadershipLostAt(batch.id());
    }
    finishState(batch, failure == null);
    Instant end = clock.now();
    BatchInfo done =
        new BatchInfo(
            batch.id(),
            batch.time(),
            w.numRecords(),
            w.submissionTime(),
            Optional.of(start),
            Optional.of(end),
            w.inputRecordsByName(rt.graph().inputs()));
    if (failure != null) {
      if (aborted) {
        LOG.info("batch {} abandoned: the context stopped", batch.id());
        return;
      }
      rt.metrics().batchesFailed.increment();
      BatchFailedException f = failure;
      rt.fail(f, done);
      return;
    }
    EngineMetrics m = rt.metrics();
    m.schedulingDelay.record(nonNegative(done.schedulingDelay().orElse(Duration.ZERO)));
    m.processingTime.record(nonNegative(done.processingTime().orElse(Duration.ZERO)));
    m.totalDelay.record(nonNegative(done.totalDelay().orElse(Duration.ZERO)));
    m.records.record(w.numRecords());
    m.batchesCompleted.increment();
    if (rateController != null) {
      rateController.onBatchCompleted(done, w.inputRecords());
    }
    rt.listeners().post(l -> l.onBatchCompleted(done));
    List<InputDStream<?, ?>> inputs = rt.graph().inputs();
    if (!inputs.isEmpty() && inputs.stream().allMatch(InputDStream::isExhausted)) {
      LOG.info(
          "every input is exhausted after batch {}; stopping context '{}'",
          batch.id(),
          rt.appName());
      rt.stopAsync(true);
    }
  }

  /**
   * Applies the batch to every state operator before any output runs: the state partitions change
   * once, and are persisted before an output can commit the batch's offsets, so the state always
   * reaches at least as far as the committed progress. Outputs then read the kept results.
   */
  private BatchFailedException runStateJobs(Batch batch) {
    for (StateOperator<?, ?> op : rt.stateOperators()) {
      String what = "state of operator '" + op.name() + "'";
      RDD<?> rdd = op.takeBatchRdd(batch.id());
      TaskScheduler.SCOPE.set(new TaskScheduler.JobScope(batch.id(), what));
      try {
        if (rdd != null) {
          rdd.foreachPartition(it -> {});
        }
        op.finishBatch(batch.id());
      } catch (Throwable e) {
        return wrap(batch.id(), what, e);
      } finally {
        TaskScheduler.SCOPE.remove();
      }
    }
    return null;
  }

  /** Commits or rolls back the batch's state versions. */
  private void finishState(Batch batch, boolean committed) {
    for (StateOperator<?, ?> op : rt.stateOperators()) {
      try {
        if (committed) {
          op.committed(batch.id());
        } else {
          op.abort();
        }
      } catch (RuntimeException e) {
        // The batch's fate is decided; only cleaning or rolling back memory failed.
        LOG.warn("state of operator '{}' after batch {}: {}", op.name(), batch.id(), e.toString());
      }
    }
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }

  private BatchFailedException runJobs(BatchWork w) {
    Batch batch = w.batch();
    List<TaskScheduler.JobScope> scopes =
        w.jobs().stream()
            .map(job -> new TaskScheduler.JobScope(batch.id(), job.operation().name()))
            .toList();
    // The first job to fail fails the batch; a failure of a job it cancelled is only the
    // consequence.
    AtomicReference<BatchFailedException> first = new AtomicReference<>();
    List<Future<BatchFailedException>> running = new ArrayList<>();
    try {
      for (int i = 0; i < scopes.size(); i++) {
        OutputOperation.Job job = w.jobs().get(i);
        TaskScheduler.JobScope scope = scopes.get(i);
        running.add(
            jobs.submit(
                () -> {
                  if (first.get() != null) {
                    return null; // the batch will not commit anyway
                  }
                  BatchFailedException f = runJob(batch, job, scope);
                  if (f != null && first.compareAndSet(null, f)) {
                    String reason =
                        "output operation '"
                            + job.operation().name()
                            + "' of batch "
                            + batch.id()
                            + " failed";
                    scopes.forEach(other -> other.tasks().cancel(reason));
                  }
                  return f;
                }));
      }
    } catch (RejectedExecutionException e) {
      return new BatchFailedException(batch.id(), "scheduling", -1, e);
    }
    BatchFailedException scheduling = null;
    for (Future<BatchFailedException> f : running) {
      try {
        f.get();
      } catch (InterruptedException e) {
        running.forEach(x -> x.cancel(true));
        Thread.currentThread().interrupt();
        return new BatchFailedException(batch.id(), "scheduling", -1, e);
      } catch (ExecutionException | CancellationException e) {
        if (scheduling == null) {
          scheduling = new BatchFailedException(batch.id(), "scheduling", -1, e);
        }
      }
    }
    return first.get() != null ? first.get() : scheduling;
  }

  /** Runs one output operation's job on a job thread; returns its failure or null. */
  private BatchFailedException runJob(
      Batch batch, OutputOperation.Job job, TaskScheduler.JobScope scope) {
    OutputOperation<?> op = job.operation();
    Instant start = clock.now();
    rt.listeners()
        .post(
            l ->
                l.onOutputOperationStarted(
                    new OutputOperationInfo(
                        batch.id(),
                        batch.time(),
                        op.index(),
                        op.name(),
                        start,
                        Optional.empty(),
                        Optional.empty())));
    TaskScheduler.SCOPE.set(scope);
    BatchFailedException failure = null;
    try {
      job.body().run();
    } catch (Throwable e) {
      failure = wrap(batch.id(), op.name(), e);
      // Tasks a helper thread of the job still runs are of no use any more.
      scope
          .tasks()
          .cancel("output operation '" + op.name() + "' of batch " + batch.id() + " failed");
    } finally {
      TaskScheduler.SCOPE.remove();
    }
    Instant end = clock.now();
    Optional<String> reason = Optional.ofNullable(failure).map(Throwable::getMessage);
    rt.listeners()
        .post(
            l ->
                l.onOutputOperationCompleted(
                    new OutputOperationInfo(
                        batch.id(),
                        batch.time(),
                        op.index(),
                        op.name(),
                        start,
                        Optional.of(end),
                        reason)));
    return failure;
  }

  /** Unwraps task and user-code wrappers so the cause is the application's exception. */
  static BatchFailedException wrap(long batchId, String operation, Throwable e) {
    int partition = -1;
    Throwable cause = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof TaskFailedException tfe) {
        partition = tfe.partition();
        cause = tfe.getCause() != null ? tfe.getCause() : tfe;
        break;
      }
    }
    while (cause instanceof TaskFailedException tfe && tfe.getCause() != null) {
      cause = tfe.getCause();
    }
    if (cause instanceof UserCodeException u && u.getCause() != null) {
      cause = u.getCause();
    }
    return new BatchFailedException(batchId, operation, partition, cause);
  }

  /**
   * Whether output operation {@code name} had a job in the batch. An output over a window sliding
   * by several intervals has none in the batches between its slides: there the input commits its
   * own offsets, to the same place (see {@link CommitOwnership}), or its committed position would
   * stop short of the batch and fence every later commit.
   */
  private static boolean ranJob(BatchWork w, String name) {
    return w.jobs().stream().anyMatch(job -> job.operation().name().equals(name));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private BatchFailedException commit(BatchWork w) {
    Batch batch = w.batch();
    if (!rt.mayCommit()) {
      return rt.leadershipLostAt(batch.id());
    }
    // Sequenced inputs keep their progress only where their committing output commits it: in a
    // batch where that output had no job, it commits their progress by itself.
    java.util.Set<String> idle = new java.util.LinkedHashSet<>();
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      if (in.sequenced()) {
        rt.commitOwnership().committerOf(in).filter(op -> !ranJob(w, op)).ifPresent(idle::add);
      }
    }
    for (String op : idle) {
      try {
        rt.graph().batchOutputOf(op).orElseThrow().commitSequences(batch);
      } catch (RuntimeException e) {
        return new BatchFailedException(
            batch.id(), "commit of the sequenced inputs' progress by '" + op + "'", -1, e);
      }
    }
    for (InputDStream<?, ?> in : rt.graph().inputs()) {
      try {
        Object plan = batch.plans().get(in.name());
        if (rt.commitOwnership().committerOf(in).filter(op -> ranJob(w, op)).isPresent()) {
          ((InputDStream) in).committedByOutput(batch, plan);
        } else {
          ((InputDStream) in).commit(batch, plan);
        }
      } catch (RuntimeException e) {
        return new BatchFailedException(batch.id(), "commit of input '" + in.name() + "'", -1, e);
      }
    }
    try {
      rt.batchJournal().committed(batch.id());
    } catch (RuntimeException e) {
      return new BatchFailedException(batch.id(), "commit log", -1, e);
    }
    return null;
  }
}
