package io.sluice.engine.status;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One receiver stream as it stands: its receiver's state and what it stored. Counts start at 0 with
 * the context (they do not survive a restart of the process).
 *
 * @param stream the stream's name
 * @param receiver the receiver's {@code describe()}
 * @param state whether it is receiving
 * @param records records stored in blocks since the context started
 * @param recordsPerSecond records stored per second, by the context's clock: over the current
 *     second and the 9 whole seconds before it (or since the receiver first started, when sooner;
 *     at least one second)
 * @param blocks blocks stored since the context started
 * @param restarts how often the receiver was restarted
 * @param errors errors: those the receiver reported, and every restart (asked for by the receiver,
 *     or by the engine when its {@code onStart} failed or a block could not be stored)
 * @param lastError the newest of those errors, if any
 */
public record ReceiverStatus(
    String stream,
    String receiver,
    State state,
    long records,
    double recordsPerSecond,
    long blocks,
    long restarts,
    long errors,
    Optional<ReceiverError> lastError) {

  /** Validates the fields. */
  public ReceiverStatus {
    Objects.requireNonNull(stream, "stream");
    Objects.requireNonNull(receiver, "receiver");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(lastError, "lastError");
  }

  /** Whether a receiver is receiving. */
  public enum State {
    /** From its {@code onStart} until a stop or a restart request. */
    RUNNING,
    /** Stopped on a restart request, waiting out the back-off before its next {@code onStart}. */
    RESTARTING,
    /** Not started yet, or stopped with the context. */
    STOPPED
  }

  /**
   * An error of a receiver.
   *
   * @param time when it was reported, by the context's clock
   * @param message its message, followed by {@code ": "} and the exception when there was one
   */
  public record ReceiverError(Instant time, String message) {

    /** Validates the fields. */
    public ReceiverError {
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(message, "message");
    }
  }
}
