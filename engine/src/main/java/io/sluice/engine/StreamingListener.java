package io.sluice.engine;

/**
 * Observes the batches of a context. Every method has an empty default.
 *
 * <p>Methods are called synchronously on the engine's driver threads ({@code sluice-job-generator} for
 * submission and {@link #onError}, {@code sluice-job-scheduler} for batch progress, {@code sluice-job-N}
 * for output operations), never two at once. For one batch, submitted comes before started, and started
 * before completed or failed; the next batch's submission may come before this batch completes. They
 * must be quick and
 * must not block or call {@link StreamingContext#stop(boolean)} synchronously expecting it to return after
 * the stop. An exception thrown by a listener is logged and ignored.
 */
public interface StreamingListener {

  /** A batch was planned and queued. */
  default void onBatchSubmitted(BatchInfo batch) {
  }

  /** A batch's first job is about to run. */
  default void onBatchStarted(BatchInfo batch) {
  }

  /** Every output operation of the batch succeeded and the batch was committed. */
  default void onBatchCompleted(BatchInfo batch) {
  }

  /** The batch failed; nothing of it was committed and the context is stopping. */
  default void onBatchFailed(BatchInfo batch, Throwable cause) {
  }

  /** An output operation's job is about to run. */
  default void onOutputOperationStarted(OutputOperationInfo info) {
  }

  /** An output operation's job ended, successfully or not (see {@link OutputOperationInfo#failureReason()}). */
  default void onOutputOperationCompleted(OutputOperationInfo info) {
  }

  /** An error outside a batch's jobs (e.g. planning failed); the context is stopping. */
  default void onError(Throwable error) {
  }
}
