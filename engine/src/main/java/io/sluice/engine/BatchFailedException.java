package io.sluice.engine;

/**
 * A batch failed: nothing of it was committed and the context stopped; a restart with a checkpoint
 * replays it. Thrown by {@link StreamingContext#awaitTermination()}. The cause is the user's (or
 * input's) exception, unwrapped from task failures.
 */
public class BatchFailedException extends TerminalException {

  private static final long serialVersionUID = 1L;

  private final long batchId;
  private final String outputOperation;
  private final int partition;

  /**
   * @param batchId the failed batch
   * @param outputOperation the name of the failed output operation, or of the phase (e.g. {@code
   *     plan input})
   * @param partition the failed partition, or -1 when the failure was not in a task
   * @param cause the underlying failure
   */
  public BatchFailedException(
      long batchId, String outputOperation, int partition, Throwable cause) {
    super(
        "batch "
            + batchId
            + " failed in output operation '"
            + outputOperation
            + "'"
            + (partition >= 0 ? ", partition " + partition : "")
            + ": "
            + cause,
        cause);
    this.batchId = batchId;
    this.outputOperation = outputOperation;
    this.partition = partition;
  }

  /** The failed batch's id. */
  public long batchId() {
    return batchId;
  }

  /** The failed output operation's name (or phase). */
  public String outputOperation() {
    return outputOperation;
  }

  /** The failed partition, or -1 when not a task failure. */
  public int partition() {
    return partition;
  }
}
