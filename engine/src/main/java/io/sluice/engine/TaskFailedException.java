package io.sluice.engine;

/**
 * A task failed on its last allowed attempt (or with a non-retriable failure). The cause is the
 * last attempt's exception.
 */
public class TaskFailedException extends SluiceException {

  private static final long serialVersionUID = 1L;

  private final int partition;
  private final int stageId;
  private final int attempts;

  /**
   * Creates the failure of {@code partition} of stage {@code stageId} after {@code attempts}
   * attempts.
   */
  public TaskFailedException(int partition, int stageId, int attempts, Throwable cause) {
    super(
        "task for partition "
            + partition
            + " of stage "
            + stageId
            + " failed after "
            + attempts
            + " attempt(s): "
            + cause,
        cause,
        false);
    this.partition = partition;
    this.stageId = stageId;
    this.attempts = attempts;
  }

  /** The failed partition. */
  public int partition() {
    return partition;
  }

  /** The stage the task belonged to. */
  public int stageId() {
    return stageId;
  }

  /** How many attempts ran. */
  public int attempts() {
    return attempts;
  }
}
