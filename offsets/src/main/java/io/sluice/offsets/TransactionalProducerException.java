package io.sluice.offsets;

/**
 * A call on a {@link TransactionalProducer} failed. {@link #kind()} is the one classification of
 * the failure (see {@link TransactionalProducer} for the table and the Kafka sources it follows)
 * and says what the producer is now:
 *
 * <ul>
 *   <li>{@link Kind#FENCED}: a newer producer took the transactional id; this instance refuses
 *       every further call. The process is a zombie: stop it.
 *   <li>{@link Kind#ABORTABLE}: the transaction was aborted; nothing of it is visible. The producer
 *       stays usable (or is recreated at the next {@code begin()}); replay the batch.
 *   <li>{@link Kind#FATAL}: a configuration, security or version error a new producer would hit
 *       again; the producer is closed and refuses every further call. Fix the cause and restart.
 * </ul>
 */
public final class TransactionalProducerException extends OffsetStoreException {

  private static final long serialVersionUID = 1L;

  /** What a failure means for the producer. */
  public enum Kind {
    /** Another producer with the same transactional id started: stop, this process is a zombie. */
    FENCED,
    /** The transaction was aborted; the producer can run the batch again. */
    ABORTABLE,
    /** The producer is closed; retrying cannot help. */
    FATAL
  }

  private final Kind kind;

  TransactionalProducerException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** What the failure means for the producer. */
  public Kind kind() {
    return kind;
  }
}
