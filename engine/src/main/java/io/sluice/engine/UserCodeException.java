package io.sluice.engine;

/**
 * A checked exception thrown by an application function (map, reduce, foreachBatch ...), wrapped so
 * it can travel through iterators. Unchecked exceptions from user code are not wrapped. Retriable
 * like any task failure.
 */
public class UserCodeException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** Wraps {@code cause}. */
  public UserCodeException(Throwable cause) {
    super("user function failed: " + cause, cause, true);
  }
}
