package io.sluice.offsets;

import io.sluice.engine.SluiceException;

/**
 * A failure reading from or writing to an {@link OffsetStore}; the message names the store and
 * group. A {@link SluiceException} that is not {@link #retriable() retriable}: the stores' clients
 * already retry transient errors within their timeouts, and a refused commit ({@link
 * OffsetFencedException}, {@link StaleBatchException}) would be refused again. Thrown inside a task
 * it fails the task at once, without the engine's task retries; on the commit path it fails the
 * batch, nothing of which is committed, and a restart replays it from the committed position.
 */
public class OffsetStoreException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message. */
  public OffsetStoreException(String message) {
    super(message, null, false);
  }

  /** Creates the exception with a message and a cause. */
  public OffsetStoreException(String message, Throwable cause) {
    super(message, cause, false);
  }
}
