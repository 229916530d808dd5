package io.sluice.kafka.direct;

import io.sluice.engine.TerminalException;

/**
 * A record's key or value could not be deserialized and the stream's {@link ErrorPolicy} is {@link
 * ErrorPolicy#fail()}. The message names topic, partition and offset, so the record can be
 * inspected or skipped by restarting after it. Terminal: a retry would fail the same way.
 */
public class BadRecordException extends TerminalException {

  private static final long serialVersionUID = 1L;

  private final String topic;
  private final int partition;
  private final long offset;

  /** Creates the exception for the record at {@code topic-partition@offset}. */
  public BadRecordException(String topic, int partition, long offset, Throwable cause) {
    super(
        "cannot deserialize the record at "
            + topic
            + "-"
            + partition
            + " offset "
            + offset
            + ": "
            + cause
            + " (use onBadRecord(ErrorPolicy.skip()) or ErrorPolicy.deadLetter(topic) to route bad records)",
        cause);
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }

  /** The record's topic. */
  public String topic() {
    return topic;
  }

  /** The record's partition. */
  public int partition() {
    return partition;
  }

  /** The record's offset. */
  public long offset() {
    return offset;
  }
}
