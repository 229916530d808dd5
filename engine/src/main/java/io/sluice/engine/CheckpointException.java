package io.sluice.engine;

/**
 * The checkpoint directory cannot be used: it is not writable, another running context holds it, or
 * its logs cannot be read as Sluice wrote them. Thrown by {@code StreamingContext.start()}; the
 * message names the directory or file and says what to do. Not retriable.
 */
public final class CheckpointException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public CheckpointException(String message) {
    super(message, null, false);
  }

  /** Creates the exception with its cause. */
  public CheckpointException(String message, Throwable cause) {
    super(message, cause, false);
  }
}
