package io.sluice.offsets;

/**
 * A failure reading from or writing to an {@link OffsetStore}; the message names the store and
 * group.
 */
public class OffsetStoreException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message. */
  public OffsetStoreException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public OffsetStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
