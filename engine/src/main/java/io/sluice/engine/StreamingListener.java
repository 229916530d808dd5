package io.sluice.engine;

/**
 * Observes the batches of a context. Every method has an empty default.
 *
 * <p>Methods are called on one thread, {@code sluice-listener-bus}, one event at a time, in the
 * order the engine posted the events, and after the fact: the engine's threads queue an event and
 * go on, so a slow listener never holds up a batch. For one batch, submitted comes before started,
 * and started before completed or failed; the next batch's submission may come before this batch
 * completes. When a batch's {@link #onBatchCompleted} arrives, its outputs and commits are done.
 * Listeners should be quick: at most 10,000 events wait for delivery, and past that new events are
 * dropped (counted by the meter {@code sluice.listener.events.dropped} and logged). When {@link
 * StreamingContext#stop(boolean)} or {@link StreamingContext#awaitTermination()} returns, every
 * event posted before the context terminated has been delivered, unless a listener was still busy
 * 10 s into the stop. A listener may call {@code stop}, which then stops in the background. An
 * exception thrown by a listener is logged and ignored.
 */
public interface StreamingListener {

  /** A batch was planned and queued. */
  default void onBatchSubmitted(BatchInfo batch) {}

  /** A batch's first job is about to run. */
  default void onBatchStarted(BatchInfo batch) {}

  /** Every output operation of the batch succeeded and the batch was committed. */
  default void onBatchCompleted(BatchInfo batch) {}

  /** The batch failed; nothing of it was committed and the context is stopping. */
  default void onBatchFailed(BatchInfo batch, Throwable cause) {}

  /** An output operation's job is about to run. */
  default void onOutputOperationStarted(OutputOperationInfo info) {}

  /**
   * An output operation's job ended, successfully or not (see {@link
   * OutputOperationInfo#failureReason()}).
   */
  default void onOutputOperationCompleted(OutputOperationInfo info) {}

  /** An error outside a batch's jobs (e.g. planning failed); the context is stopping. */
  default void onError(Throwable error) {}
}
