package io.sluice.sinks;

import io.sluice.engine.SluiceException;

/**
 * A sink could not write or commit a batch. The batch fails and nothing of it is committed; a
 * restart replays it. Not retriable inside the batch: the sink's transaction is gone, so the whole
 * batch must run again.
 */
public class SinkException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** A failure with a message naming the sink and the batch, and its cause. */
  public SinkException(String message, Throwable cause) {
    super(message, cause, false);
  }

  /** A failure without a cause. */
  public SinkException(String message) {
    super(message, null, false);
  }
}
