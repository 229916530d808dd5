package io.sluice.engine;

/**
 * A failure that retrying cannot fix (bad configuration, lost data under a fail policy): a task
 * that throws it fails at once, without further attempts, and the batch fails.
 */
public class TerminalException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** A terminal failure. */
  public TerminalException(String message, Throwable cause) {
    super(message, cause, false);
  }

  /** A terminal failure without a cause. */
  public TerminalException(String message) {
    super(message, null, false);
  }
}
