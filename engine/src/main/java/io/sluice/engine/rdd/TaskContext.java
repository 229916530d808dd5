package io.sluice.engine.rdd;

import io.sluice.engine.internal.TaskContextImpl;
import java.util.Optional;

/**
 * Where a task runs: which partition, which attempt, which slot, for which batch. One instance per
 * task attempt, used by that attempt's thread only.
 */
public interface TaskContext {

  /**
   * The context of the task running on the calling thread, if the calling thread is running a task.
   */
  static Optional<TaskContext> current() {
    return Optional.ofNullable(TaskContextImpl.CURRENT.get());
  }

  /** The partition this task computes. */
  int partition();

  /** 0 for the first attempt, then 1, 2 ... for retries. */
  int attemptNumber();

  /** The task slot running the task: 0 .. parallelism - 1 (thread {@code sluice-task-<slotId>}). */
  int slotId();

  /** The batch whose output operation started the job, or -1 for a job run outside a batch. */
  long batchId();

  /** The stage: one per shuffle boundary of a job; unique within the context. */
  int stageId();

  /** The job: one per action; unique within the context. */
  int jobId();

  /**
   * Runs {@code listener} when this attempt ends, successfully or not, on the task thread, in
   * registration order. A listener's exception is logged and ignored. Use it to release resources
   * (consumers, connections) that an iterator holds.
   */
  void addCompletionListener(Runnable listener);
}
