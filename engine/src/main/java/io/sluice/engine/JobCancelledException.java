package io.sluice.engine;

/**
 * A job's tasks were cancelled before they all ended: another output operation of the same batch
 * failed, or the context is stopping. Thrown by the RDD actions ({@code collect}, {@code count},
 * {@code foreach}, {@code runJob}, {@code consumePartitions} ...) on the job's thread, typically
 * inside a {@code foreachBatch} function or a sink's {@code write}. The batch fails (or is
 * abandoned by the stop) and nothing of it is committed; a restart replays it. There is nothing to
 * fix in the cancelled job itself: the batch's first failure, reported by {@link
 * BatchFailedException}, says what went wrong. Not retriable.
 */
public final class JobCancelledException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was cancelled and why, e.g. {@code job 3 of output operation 'slow' (batch
   *     0) cancelled: output operation 'failing' of batch 0 failed}
   * @param cause the interruption that cancelled it, or null
   */
  public JobCancelledException(String message, Throwable cause) {
    super(message, cause, false);
  }
}
