package io.sluice.kafka.direct;

import io.sluice.engine.SluiceException;

/**
 * A direct stream cannot start: its Kafka cluster does not answer within the stream's {@code
 * pollTimeout}, or its dead-letter topic does not exist. Thrown by the context's {@code start()}
 * instead of letting the first batches block for minutes. The message names the bootstrap servers,
 * the stream's consumer group or the topic, and what to fix; {@link #retriable()} tells whether
 * starting again later may succeed (a cluster that did not answer) or a setting or topic must
 * change first.
 */
public class StreamStartException extends SluiceException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public StreamStartException(String message, Throwable cause, boolean retriable) {
    super(message, cause, retriable);
  }
}
