package io.sluice.engine.internal.checkpoint;

/** The checkpoint directory cannot be read as Sluice wrote it; the message says what to do. */
public final class CheckpointException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public CheckpointException(String message) {
    super(message);
  }
}
