package io.sluice.kafka.direct;

import io.sluice.engine.RetriableException;

/**
 * A task made no progress reading its offset range for the stream's {@code pollTimeout}: the broker
 * is unreachable or the range's offsets cannot be fetched. The message names topic, partition, the
 * range and the position reached. Retriable: the engine may re-run the task.
 */
public class FetchTimeoutException extends RetriableException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the range and the position reached. */
  public FetchTimeoutException(String message) {
    super(message, null);
  }
}
