package io.sluice.engine.internal;

import io.sluice.engine.rdd.TaskContext;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One task attempt's context. */
public final class TaskContextImpl implements TaskContext {

  /** The task running on this thread, if any. */
  public static final ThreadLocal<TaskContextImpl> CURRENT = new ThreadLocal<>();

  private static final Logger LOG = LoggerFactory.getLogger(TaskContextImpl.class);

  private final int partition;
  private final int attemptNumber;
  private final int slotId;
  private final long batchId;
  private final int stageId;
  private final int jobId;
  private final List<Runnable> listeners = new ArrayList<>();

  /** Creates the context of one attempt. */
  public TaskContextImpl(
      int partition, int attemptNumber, int slotId, long batchId, int stageId, int jobId) {
    this.partition = partition;
    this.attemptNumber = attemptNumber;
    this.slotId = slotId;
    this.batchId = batchId;
    this.stageId = stageId;
    this.jobId = jobId;
  }

  @Override
  public int partition() {
    return partition;
  }

  @Override
  public int attemptNumber() {
    return attemptNumber;
  }

  @Override
  public int slotId() {
    return slotId;
  }

  @Override
  public long batchId() {
    return batchId;
  }

  @Override
  public int stageId() {
    return stageId;
  }

  @Override
  public int jobId() {
    return jobId;
  }

  @Override
  public void addCompletionListener(Runnable listener) {
    listeners.add(listener);
  }

  /** Runs the completion listeners, logging their failures. */
  void complete() {
    for (Runnable r : listeners) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.warn("task completion listener failed (partition {}, stage {})", partition, stageId, e);
      }
    }
    listeners.clear();
  }

  @Override
  public String toString() {
    return "TaskContext[partition="
        + partition
        + ", attempt="
        + attemptNumber
        + ", slot="
        + slotId
        + ", batch="
        + batchId
        + ", stage="
        + stageId
        + ", job="
        + jobId
        + "]";
  }
}
