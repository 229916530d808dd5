package io.sluice.engine;

/**
 * The context stopped because its process lost the leadership of its {@link LeaderElection}: it
 * stopped processing at once, and nothing more was committed by it (a commit already in flight is
 * refused by the offset store when another leader has moved on). {@link
 * StreamingContext#awaitTermination()} throws it. Exit the process and let its supervisor restart
 * it: a new context comes back as a standby.
 */
public class LeadershipLostException extends TerminalException {

  private static final long serialVersionUID = 1L;

  /** A loss of leadership, described by {@code message}. */
  public LeadershipLostException(String message) {
    super(message);
  }
}
