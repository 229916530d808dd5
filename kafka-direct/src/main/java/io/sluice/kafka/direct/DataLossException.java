package io.sluice.kafka.direct;

import io.sluice.engine.TerminalException;
import org.apache.kafka.common.TopicPartition;

/**
 * Offsets a stream had to read are no longer available (retention deleted them, or the partition
 * disappeared) and the stream's {@link DataLossPolicy} is {@link DataLossPolicy#FAIL}. Terminal (no task retry):
 * restart from a valid position, or set {@link DataLossPolicy#SKIP} to accept the loss.
 */
public class DataLossException extends TerminalException {

  private static final long serialVersionUID = 1L;

  private final transient TopicPartition topicPartition;
  private final long expectedOffset;
  private final long availableFrom;
  private final long availableUntil;

  /** Creates the exception; {@code availableFrom} and {@code availableUntil} are -1 for a partition that is gone. */
  public DataLossException(TopicPartition topicPartition, long expectedOffset, long availableFrom, long availableUntil) {
    super(message(topicPartition, expectedOffset, availableFrom, availableUntil));
    this.topicPartition = topicPartition;
    this.expectedOffset = expectedOffset;
    this.availableFrom = availableFrom;
    this.availableUntil = availableUntil;
  }

  private static String message(TopicPartition tp, long expected, long from, long until) {
    if (from < 0) {
      return "data loss on " + tp + ": the partition disappeared while the stream expected offset " + expected
          + " next; set dataLossPolicy(SKIP) to continue without it";
    }
    return "data loss on " + tp + ": expected offset " + expected + " next, but the log holds only offsets ["
        + from + ", " + until + ") (deleted by retention or truncated); set dataLossPolicy(SKIP) to jump to "
        + from + ", or restart from a valid position";
  }

  /** The partition that lost data. */
  public TopicPartition topicPartition() {
    return topicPartition;
  }

  /** The offset the stream expected to read next. */
  public long expectedOffset() {
    return expectedOffset;
  }

  /** The log start offset when the loss was found, or -1 when the partition is gone. */
  public long availableFrom() {
    return availableFrom;
  }

  /** The log end (or last stable) offset when the loss was found, or -1 when the partition is gone. */
  public long availableUntil() {
    return availableUntil;
  }
}
