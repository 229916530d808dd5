package io.sluice.engine.internal;

import io.micrometer.core.instrument.Counter;
import io.sluice.engine.JobCancelledException;
import io.sluice.engine.SluiceException;
import io.sluice.engine.TaskFailedException;
import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ShuffleStage;
import java.nio.channels.ClosedByInterruptException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs on a fixed pool of {@code parallelism} task slots (threads {@code sluice-task-N}). A
 * job first materializes the shuffle stages its RDD's lineage needs (parents first), then runs one
 * result task per partition. A failed task is retried on the same slot, from its lineage, up to
 * {@code maxTaskAttempts}.
 *
 * <p>A task that fails for good (its last attempt, or a failure that is not retriable) fails its
 * stage and cancels the stage's other tasks: those not started are skipped, running ones are
 * interrupted, and none of them is retried or reported as a failure of its own. {@link
 * JobTasks#cancel} does the same for every stage of an output operation's job. {@code runJob}
 * returns, or throws, once every task it started has ended, so the slots are free for the next job.
 */
public final class TaskScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(TaskScheduler.class);

  /** The slot id of the current task thread; null on other threads. */
  static final ThreadLocal<Integer> SLOT = new ThreadLocal<>();

  /**
   * The batch and output operation a job thread is running; null outside batches. Not inheritable:
   * task threads are created lazily by whichever job first needs them and must not keep that job's
   * scope; a job started inside a task takes the batch from the task's context.
   */
  public static final ThreadLocal<JobScope> SCOPE = new ThreadLocal<>();

  /**
   * What a job thread is working for.
   *
   * @param batchId the batch
   * @param outputOperation the output operation's name
   * @param tasks the task sets the job runs, to cancel them
   */
  public record JobScope(long batchId, String outputOperation, JobTasks tasks) {

    /** The scope of a job that has run no task yet. */
    public JobScope(long batchId, String outputOperation) {
      this(batchId, outputOperation, new JobTasks());
    }
  }

  /**
   * The task sets of one output operation's job that are running, on its job thread or on a helper
   * thread that inherited its scope. Thread-safe.
   */
  public static final class JobTasks {
    private final Set<TaskSet> running = Collections.newSetFromMap(new IdentityHashMap<>());
    private String cancelled;

    /**
     * Adds {@code set}; returns the reason the job was cancelled (and {@code set} not added), or
     * null.
     */
    private synchronized String register(TaskSet set) {
      if (cancelled == null) {
        running.add(set);
      }
      return cancelled;
    }

    private synchronized void unregister(TaskSet set) {
      running.remove(set);
    }

    /**
     * Cancels the job's tasks: running ones are interrupted, the job's later task sets are refused
     * with a {@link JobCancelledException}. Idempotent; any thread; does not wait for the tasks to
     * end.
     */
    public void cancel(String reason) {
      List<TaskSet> sets;
      synchronized (this) {
        if (cancelled != null) {
          return;
        }
        cancelled = reason;
        sets = List.copyOf(running);
      }
      sets.forEach(set -> set.cancel(reason));
    }
  }

  /**
   * The tasks of one stage of one job, run on the slots. The first task to fail for good cancels
   * the others; a failure after the cancellation is its consequence (an interrupted task) and is
   * not reported. A task's thread is interrupted only between its {@link #begin} and {@link #end},
   * so no interrupt reaches the next task of the slot.
   */
  private static final class TaskSet {
    private final Thread[] runners;
    private String cancelled;
    private RuntimeException failure;

    TaskSet(int n) {
      runners = new Thread[n];
    }

    /**
     * The task of {@code partition} starts on this thread; false when the set is cancelled (skip
     * it).
     */
    synchronized boolean begin(int partition) {
      if (cancelled != null) {
        return false;
      }
      runners[partition] = Thread.currentThread();
      return true;
    }

    /** The task of {@code partition} ended on this thread. */
    synchronized void end(int partition) {
      runners[partition] = null;
      if (cancelled != null) {
        // An interrupt of the cancellation may have arrived after the task's last interruptible
        // call.
        Thread.interrupted();
      }
    }

    /** Records a task's final failure; the first cancels the other tasks. */
    void fail(RuntimeException e, String reason) {
      synchronized (this) {
        if (cancelled != null) {
          return;
        }
        failure = e;
      }
      cancel(reason);
    }

    /** Skips the tasks not started and interrupts the running ones; idempotent. */
    synchronized void cancel(String reason) {
      if (cancelled != null) {
        return;
      }
      cancelled = reason;
      Thread self = Thread.currentThread();
      for (Thread t : runners) {
        if (t != null && t != self) {
          t.interrupt();
        }
      }
    }

    synchronized boolean cancelled() {
      return cancelled != null;
    }

    synchronized String cancelReason() {
      return cancelled;
    }

    synchronized RuntimeException failure() {
      return failure;
    }
  }

  /** One task's body. */
  @FunctionalInterface
  interface TaskBody<R> {
    R run(int partition, TaskContextImpl ctx) throws Exception;
  }

  private final ExecutorService pool;
  private final int parallelism;
  private final int maxAttempts;
  private final Counter retries;
  private final AtomicInteger nextStage = new AtomicInteger();
  private final AtomicInteger nextJob = new AtomicInteger();
  private volatile boolean closed;

  /** Creates the slots (threads start lazily). */
  public TaskScheduler(int parallelism, int maxAttempts, Counter retries) {
    this.parallelism = parallelism;
    this.maxAttempts = maxAttempts;
    this.retries = retries;
    this.pool =
        new ThreadPoolExecutor(
            parallelism,
            parallelism,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            EngineThreads.factory("sluice-task", true, SLOT::set));
  }

  /** The number of slots. */
  public int parallelism() {
    return parallelism;
  }

  /**
   * Runs {@code body} on a slot for as long as it runs (a receiver), on a thread named {@code
   * threadName} meanwhile; the slot serves no task until {@code body} returns. Returns at once.
   */
  public Future<?> startLongRunning(String threadName, Runnable body) {
    return pool.submit(
        () -> {
          Thread t = Thread.currentThread();
          String name = t.getName();
          t.setName(threadName);
          try {
            body.run();
          } finally {
            t.setName(name);
          }
        });
  }

  /** Runs {@code f} over every partition of {@code rdd}; blocks until every task ended. */
  public <T, R> List<R> runJob(RDD<T> rdd, RDD.PartitionFunction<T, R> f) {
    if (closed) {
      throw new IllegalStateException("cannot run a job: the context's task slots are shut down");
    }
    int jobId = nextJob.getAndIncrement();
    JobScope scope = SCOPE.get();
    prepare(rdd, jobId, scope, Collections.newSetFromMap(new IdentityHashMap<>()));
    int stage = nextStage.getAndIncrement();
    return runTasks(
        rdd.numPartitions(), stage, jobId, scope, (p, tc) -> f.apply(rdd.iterator(p, tc), tc));
  }

  /**
   * The batch a job works for: its job scope's, or the running task's for a job started inside a
   * task.
   */
  private static long batchIdOf(JobScope scope) {
    if (scope != null) {
      return scope.batchId();
    }
    TaskContextImpl task = TaskContextImpl.CURRENT.get();
    return task == null ? -1 : task.batchId();
  }

  /** Told, on the slot thread, when a task of a {@link #submitJob submitted job} ended. */
  @FunctionalInterface
  interface TaskEndListener {
    /** {@code failure} is null when the task succeeded, else its failure after its last attempt. */
    void ended(int partition, Throwable failure);
  }

  /**
   * Materializes the shuffle stages {@code rdd} needs (blocking), then submits one task per
   * partition and returns without waiting for them: every task's end, success or failure after its
   * attempts, is reported to {@code onEnd} exactly once. Must not be called from a task slot.
   *
   * @return the number of tasks submitted (the number of {@code onEnd} calls to expect)
   */
  <T> int submitJob(RDD<T> rdd, RDD.PartitionFunction<T, ?> f, TaskEndListener onEnd) {
    if (closed) {
      throw new IllegalStateException("cannot run a job: the context's task slots are shut down");
    }
    int jobId = nextJob.getAndIncrement();
    JobScope scope = SCOPE.get();
    long batchId = batchIdOf(scope);
    prepare(rdd, jobId, scope, Collections.newSetFromMap(new IdentityHashMap<>()));
    int stageId = nextStage.getAndIncrement();
    int n = rdd.numPartitions();
    for (int p = 0; p < n; p++) {
      int partition = p;
      Runnable task =
          () -> {
            Throwable failure = null;
            try {
              runTask(
                  partition,
                  SLOT.get(),
                  stageId,
                  jobId,
                  batchId,
                  (q, tc) -> f.apply(rdd.iterator(q, tc), tc),
                  null);
            } catch (Throwable e) {
              failure = e;
            } finally {
              onEnd.ended(partition, failure);
            }
          };
      try {
        pool.execute(task);
      } catch (RejectedExecutionException e) {
        for (int q = p; q < n; q++) {
          onEnd.ended(
              q,
              new IllegalStateException(
                  "cannot run a job: the context's task slots are shut down", e));
        }
        break;
      }
    }
    return n;
  }

  private void prepare(RDD<?> rdd, int jobId, JobScope scope, Set<RDD<?>> visited) {
    if (!visited.add(rdd)) {
      return;
    }
    if (rdd instanceof ShuffleStage stage) {
      // Concurrent jobs sharing a shuffle run its map side once; the others wait for it.
      synchronized (stage) {
        if (!stage.materialized()) {
          RDD<?> mapSide = stage.mapSide();
          prepare(mapSide, jobId, scope, visited);
          int stageId = nextStage.getAndIncrement();
          stage.setMapOutputs(
              runTasks(
                  mapSide.numPartitions(),
                  stageId,
                  jobId,
                  scope,
                  (p, tc) -> stage.runMapTask(p, tc)));
        }
      }
      return;
    }
    for (Dependency d : rdd.dependencies()) {
      prepare(d.rdd(), jobId, scope, visited);
    }
  }

  private <R> List<R> runTasks(int n, int stageId, int jobId, JobScope scope, TaskBody<R> body) {
    long batchId = batchIdOf(scope);
    Integer currentSlot = SLOT.get();
    if (currentSlot != null) {
      // A job started from inside a task runs inline: waiting for other slots could deadlock.
      List<R> out = new ArrayList<>(n);
      for (int p = 0; p < n; p++) {
        out.add(runTask(p, currentSlot, stageId, jobId, batchId, body, null));
      }
      return out;
    }
    TaskSet set = new TaskSet(n);
    JobTasks job = scope == null ? null : scope.tasks();
    String cancelled = job == null ? null : job.register(set);
    if (cancelled != null) {
      throw cancelledJob(jobId, scope, cancelled, null);
    }
    try {
      return awaitTasks(
          submitTasks(n, set, stageId, jobId, batchId, body), set, stageId, jobId, scope);
    } finally {
      if (job != null) {
        job.unregister(set);
      }
    }
  }

  private <R> List<Future<R>> submitTasks(
      int n, TaskSet set, int stageId, int jobId, long batchId, TaskBody<R> body) {
    List<Future<R>> futures = new ArrayList<>(n);
    try {
      for (int p = 0; p < n; p++) {
        int partition = p;
        futures.add(pool.submit(() -> runInSet(set, partition, stageId, jobId, batchId, body)));
      }
    } catch (RejectedExecutionException e) {
      set.cancel("the context's task slots are shut down");
      futures.forEach(f -> f.cancel(false));
      throw new IllegalStateException(
          "cannot run a job: the context's task slots are shut down", e);
    }
    return futures;
  }

  /**
   * Waits for every task of {@code set} to end; throws the first final failure, or the
   * cancellation.
   */
  private <R> List<R> awaitTasks(
      List<Future<R>> futures, TaskSet set, int stageId, int jobId, JobScope scope) {
    List<R> results = new ArrayList<>(futures.size());
    for (int p = 0; p < futures.size(); p++) {
      try {
        results.add(futures.get(p).get());
      } catch (InterruptedException e) {
        set.cancel("the job's thread was interrupted");
        futures.forEach(f -> f.cancel(false));
        Thread.currentThread().interrupt();
        throw cancelledJob(jobId, scope, "the context is stopping", e);
      } catch (CancellationException e) {
        // Only shutdown() cancels a task's future: the context is stopping.
        set.cancel("the context is stopping");
      } catch (ExecutionException e) {
        // runInSet records its task's failure before it throws; this is anything else that escaped.
        set.fail(
            e.getCause() instanceof RuntimeException re
                ? re
                : new TaskFailedException(p, stageId, 1, e.getCause()),
            "task " + p + " of stage " + stageId + " failed");
      }
    }
    RuntimeException failure = set.failure();
    if (failure != null) {
      throw failure;
    }
    if (set.cancelled()) {
      throw cancelledJob(jobId, scope, set.cancelReason(), null);
    }
    return results;
  }

  /**
   * Runs one task of {@code set} on this slot, unless the set was cancelled before it started
   * (null).
   */
  private <R> R runInSet(
      TaskSet set, int partition, int stageId, int jobId, long batchId, TaskBody<R> body) {
    if (!set.begin(partition)) {
      return null;
    }
    try {
      return runTask(partition, SLOT.get(), stageId, jobId, batchId, body, set);
    } catch (TaskFailedException e) {
      if (closed && interrupted(e)) {
        // The slots' shutdown interrupted it: the context is stopping, the task did not fail. The
        // job's thread may see this task's end before its own interrupt.
        set.cancel("the context is stopping");
      } else {
        set.fail(e, "partition " + partition + " of stage " + stageId + " failed");
      }
      throw e;
    } finally {
      set.end(partition);
    }
  }

  private <R> R runTask(
      int partition,
      int slot,
      int stageId,
      int jobId,
      long batchId,
      TaskBody<R> body,
      TaskSet set) {
    TaskContextImpl outer = TaskContextImpl.CURRENT.get();
    for (int attempt = 0; ; attempt++) {
      TaskContextImpl tc = new TaskContextImpl(partition, attempt, slot, batchId, stageId, jobId);
      TaskContextImpl.CURRENT.set(tc);
      try {
        R result = body.run(partition, tc);
        tc.complete();
        return result;
      } catch (Throwable e) {
        tc.complete();
        boolean retriable = !(e instanceof SluiceException se) || se.retriable();
        if (e instanceof VirtualMachineError || e instanceof InterruptedException) {
          retriable = false;
        }
        // A cancelled task is not retried: its failure is the interruption (which some clients
        // swallow).
        boolean cancelled = set != null && set.cancelled();
        if (!retriable
            || attempt + 1 >= maxAttempts
            || closed
            || cancelled
            || Thread.currentThread().isInterrupted()) {
          throw new TaskFailedException(partition, stageId, attempt + 1, e);
        }
        retries.increment();
        LOG.warn(
            "task for partition {} of stage {} (batch {}) failed on attempt {}, retrying: {}",
            partition,
            stageId,
            batchId,
            attempt,
            e.toString());
      } finally {
        TaskContextImpl.CURRENT.set(outer);
      }
    }
  }

  private static boolean interrupted(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedException || t instanceof ClosedByInterruptException) {
        return true;
      }
    }
    return Thread.currentThread().isInterrupted();
  }

  /** Interrupts running tasks and refuses new jobs. Idempotent. */
  public void shutdown() {
    closed = true;
    // The tasks that never started fail their futures, so that no job waits for them.
    for (Runnable neverStarted : pool.shutdownNow()) {
      if (neverStarted instanceof Future<?> f) {
        f.cancel(false);
      }
    }
  }

  /** Waits for the slots' threads to end after {@link #shutdown()}. */
  public boolean awaitShutdown(long millis) throws InterruptedException {
    return pool.awaitTermination(millis, TimeUnit.MILLISECONDS);
  }

  /**
   * The failure of a job whose tasks were cancelled, naming the job, its output operation and batch
   * when known, and why.
   */
  private static JobCancelledException cancelledJob(
      int jobId, JobScope scope, String reason, Throwable cause) {
    String job =
        scope == null
            ? "job " + jobId
            : "job "
                + jobId
                + " of output operation '"
                + scope.outputOperation()
                + "' (batch "
                + scope.batchId()
                + ")";
    return new JobCancelledException(job + " cancelled: " + reason, cause);
  }
}
