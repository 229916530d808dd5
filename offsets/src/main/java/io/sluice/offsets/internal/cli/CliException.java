package io.sluice.offsets.internal.cli;

/** A failure the command line reports as one line, without a stack trace. */
public final class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public CliException(String message) {
    super(message);
  }

  /** Creates the exception with a cause. */
  public CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
