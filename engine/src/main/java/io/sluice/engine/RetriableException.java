package io.sluice.engine;

/**
 * A transient failure: the task that threw it is re-run from its lineage, up to {@code
 * maxTaskAttempts}.
 */
public class RetriableException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** A retriable failure. */
  public RetriableException(String message, Throwable cause) {
    super(message, cause, true);
  }
}
