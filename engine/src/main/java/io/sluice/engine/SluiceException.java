package io.sluice.engine;

/**
 * Base of Sluice's typed failures. {@link #retriable()} tells whether trying the same work again
 * can succeed: a task that fails with a non-retriable exception is not re-run.
 */
public class SluiceException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final boolean retriable;

  /** A failure with a message and an optional cause. */
  public SluiceException(String message, Throwable cause, boolean retriable) {
    super(message, cause);
    this.retriable = retriable;
  }

  /** A non-retriable failure with a message. */
  public SluiceException(String message) {
    this(message, null, false);
  }

  /** True when the failed work may succeed if run again (e.g. a transient I/O error). */
  public boolean retriable() {
    return retriable;
  }
}
