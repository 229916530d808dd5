package io.sluice.engine.internal;

import io.micrometer.core.instrument.Counter;
import io.sluice.engine.SluiceException;
import io.sluice.engine.TaskFailedException;
import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ShuffleStage;
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
 * Runs jobs on a fixed pool of {@code parallelism} task slots (threads {@code sluice-task-N}). A job first
 * materializes the shuffle stages its RDD's lineage needs (parents first), then runs one result task per
 * partition. A failed task is retried on the same slot, from its lineage, up to {@code maxTaskAttempts}.
 */
public final class TaskScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(TaskScheduler.class);

  /** The slot id of the current task thread; null on other threads. */
  static final ThreadLocal<Integer> SLOT = new ThreadLocal<>();

  /**
   * The batch and output operation a job thread is running; null outside batches. Not inheritable: task
   * threads are created lazily by whichever job first needs them and must not keep that job's scope; a job
   * started inside a task takes the batch from the task's context.
   */
  public static final ThreadLocal<JobScope> SCOPE = new ThreadLocal<>();

  /**
   * What a job thread is working for.
   *
   * @param batchId         the batch
   * @param outputOperation the output operation's name
   */
  public record JobScope(long batchId, String outputOperation) {
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
    this.pool = new ThreadPoolExecutor(parallelism, parallelism, 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), EngineThreads.factory("sluice-task", true, SLOT::set));
  }

  /** The number of slots. */
  public int parallelism() {
    return parallelism;
  }

  /** Runs {@code f} over every partition of {@code rdd}; blocks until every task ended. */
  public <T, R> List<R> runJob(RDD<T> rdd, RDD.PartitionFunction<T, R> f) {
    if (closed) {
      throw new IllegalStateException("cannot run a job: the context's task slots are shut down");
    }
    int jobId = nextJob.getAndIncrement();
    long batchId = currentBatchId();
    prepare(rdd, jobId, batchId, Collections.newSetFromMap(new IdentityHashMap<>()));
    int stage = nextStage.getAndIncrement();
    return runTasks(rdd.numPartitions(), stage, jobId, batchId, (p, tc) -> f.apply(rdd.compute(p, tc), tc));
  }

  /** The batch the calling thread works for: its job scope, or the running task's batch; -1 when none. */
  private static long currentBatchId() {
    JobScope scope = SCOPE.get();
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
   * Materializes the shuffle stages {@code rdd} needs (blocking), then submits one task per partition and
   * returns without waiting for them: every task's end, success or failure after its attempts, is reported
   * to {@code onEnd} exactly once. Must not be called from a task slot.
   *
   * @return the number of tasks submitted (the number of {@code onEnd} calls to expect)
   */
  <T> int submitJob(RDD<T> rdd, RDD.PartitionFunction<T, ?> f, TaskEndListener onEnd) {
    if (closed) {
      throw new IllegalStateException("cannot run a job: the context's task slots are shut down");
    }
    int jobId = nextJob.getAndIncrement();
    long batchId = currentBatchId();
    prepare(rdd, jobId, batchId, Collections.newSetFromMap(new IdentityHashMap<>()));
    int stageId = nextStage.getAndIncrement();
    int n = rdd.numPartitions();
    for (int p = 0; p < n; p++) {
      int partition = p;
      Runnable task = () -> {
        Throwable failure = null;
        try {
          runTask(partition, SLOT.get(), stageId, jobId, batchId, (q, tc) -> f.apply(rdd.compute(q, tc), tc));
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
          onEnd.ended(q, new IllegalStateException("cannot run a job: the context's task slots are shut down", e));
        }
        break;
      }
    }
    return n;
  }

  private void prepare(RDD<?> rdd, int jobId, long batchId, Set<RDD<?>> visited) {
    if (!visited.add(rdd)) {
      return;
    }
    if (rdd instanceof ShuffleStage stage) {
      // Concurrent jobs sharing a shuffle run its map side once; the others wait for it.
      synchronized (stage) {
        if (!stage.materialized()) {
          RDD<?> mapSide = stage.mapSide();
          prepare(mapSide, jobId, batchId, visited);
          int stageId = nextStage.getAndIncrement();
          stage.setMapOutputs(runTasks(mapSide.numPartitions(), stageId, jobId, batchId,
              (p, tc) -> stage.runMapTask(p, tc)));
        }
      }
      return;
    }
    for (Dependency d : rdd.dependencies()) {
      prepare(d.rdd(), jobId, batchId, visited);
    }
  }

  private <R> List<R> runTasks(int n, int stageId, int jobId, long batchId, TaskBody<R> body) {
    Integer currentSlot = SLOT.get();
    if (currentSlot != null) {
      // A job started from inside a task runs inline: waiting for other slots could deadlock.
      List<R> out = new ArrayList<>(n);
      for (int p = 0; p < n; p++) {
        out.add(runTask(p, currentSlot, stageId, jobId, batchId, body));
      }
      return out;
    }
    List<Future<R>> futures = new ArrayList<>(n);
    try {
      for (int p = 0; p < n; p++) {
        int partition = p;
        futures.add(pool.submit(() -> runTask(partition, SLOT.get(), stageId, jobId, batchId, body)));
      }
    } catch (RejectedExecutionException e) {
      futures.forEach(f -> f.cancel(true));
      throw new IllegalStateException("cannot run a job: the context's task slots are shut down", e);
    }
    List<R> results = new ArrayList<>(n);
    RuntimeException failure = null;
    for (int p = 0; p < n; p++) {
      try {
        results.add(futures.get(p).get());
      } catch (InterruptedException e) {
        futures.forEach(f -> f.cancel(true));
        Thread.currentThread().interrupt();
        throw new JobInterruptedException(jobId, e);
      } catch (CancellationException e) {
        if (failure == null) {
          failure = new JobInterruptedException(jobId, e);
        }
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof RuntimeException re ? re
              : new TaskFailedException(p, stageId, 1, e.getCause());
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return results;
  }

  private <R> R runTask(int partition, int slot, int stageId, int jobId, long batchId, TaskBody<R> body) {
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
        if (!retriable || attempt + 1 >= maxAttempts || closed || Thread.currentThread().isInterrupted()) {
          throw new TaskFailedException(partition, stageId, attempt + 1, e);
        }
        retries.increment();
        LOG.warn("task for partition {} of stage {} (batch {}) failed on attempt {}, retrying: {}",
            partition, stageId, batchId, attempt, e.toString());
      } finally {
        TaskContextImpl.CURRENT.set(outer);
      }
    }
  }

  /** Interrupts running tasks and refuses new jobs. Idempotent. */
  public void shutdown() {
    closed = true;
    pool.shutdownNow();
  }

  /** Waits for the slots' threads to end after {@link #shutdown()}. */
  public boolean awaitShutdown(long millis) throws InterruptedException {
    return pool.awaitTermination(millis, TimeUnit.MILLISECONDS);
  }

  /** Thrown when a job is interrupted because the context stops. */
  public static final class JobInterruptedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    JobInterruptedException(int jobId, Throwable cause) {
      super("job " + jobId + " interrupted: the context is stopping", cause, false);
    }
  }
}
