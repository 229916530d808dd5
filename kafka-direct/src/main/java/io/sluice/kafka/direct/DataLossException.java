package io.sluice.kafka.direct;

import io.sluice.engine.TerminalException;
import org.apache.kafka.common.TopicPartition;

/**
 * Offsets a stream had to read are not in the partition's log, and the stream's {@link
 * DataLossPolicy} is {@link DataLossPolicy#FAIL}. Terminal (no task retry). The {@link #reason()}
 * and the message tell the cases apart, because the way out differs:
 *
 * <ul>
 *   <li>{@link Reason#BEFORE_LOG_START}: retention or {@code deleteRecords} removed the offsets;
 *       {@link DataLossPolicy#SKIP} would continue at the log start, losing only what was deleted.
 *   <li>{@link Reason#AFTER_LOG_END}: the topic was recreated or truncated, or a reset went past
 *       the end. Check the topic before going on; {@link DataLossPolicy#SKIP} would continue at the
 *       log end without reading the records now in the log, never re-read it from its start.
 *   <li>{@link Reason#PARTITION_GONE}: the partition no longer exists.
 * </ul>
 */
public class DataLossException extends TerminalException {

  private static final long serialVersionUID = 1L;

  /** Where the expected offset lies relative to the partition's log. */
  public enum Reason {
    /**
     * The expected offset is below the log start: deleted by retention or {@code deleteRecords}.
     */
    BEFORE_LOG_START,
    /**
     * The expected offset is above the log end: the topic was recreated or truncated, or a reset
     * went past the end.
     */
    AFTER_LOG_END,
    /** The partition disappeared. */
    PARTITION_GONE
  }

  private final transient TopicPartition topicPartition;
  private final long expectedOffset;
  private final long availableFrom;
  private final long availableUntil;

  /**
   * Creates the exception; {@code availableFrom} and {@code availableUntil} are -1 for a partition
   * that is gone. An expected offset at or above {@code availableFrom} is taken to be past the log
   * end.
   */
  public DataLossException(
      TopicPartition topicPartition, long expectedOffset, long availableFrom, long availableUntil) {
    super(message(topicPartition, expectedOffset, availableFrom, availableUntil));
    this.topicPartition = topicPartition;
    this.expectedOffset = expectedOffset;
    this.availableFrom = availableFrom;
    this.availableUntil = availableUntil;
  }

  private static Reason reason(long expected, long from) {
    if (from < 0) {
      return Reason.PARTITION_GONE;
    }
    return expected < from ? Reason.BEFORE_LOG_START : Reason.AFTER_LOG_END;
  }

  private static String message(TopicPartition tp, long expected, long from, long until) {
    String holds =
        "data loss on "
            + tp
            + ": expected offset "
            + expected
            + " next, but the log holds only offsets ["
            + from
            + ", "
            + until
            + "): offset "
            + expected;
    return switch (reason(expected, from)) {
      case PARTITION_GONE ->
          "data loss on "
              + tp
              + ": the partition disappeared while the stream expected offset "
              + expected
              + " next; set dataLossPolicy(SKIP) to continue without it";
      case BEFORE_LOG_START ->
          holds
              + " is before the log start "
              + from
              + " (retention or deleteRecords removed"
              + " offsets ["
              + expected
              + ", "
              + from
              + ")); set dataLossPolicy(SKIP) to skip to "
              + from
              + ", or restart from a valid position";
      case AFTER_LOG_END ->
          holds
              + " is after the log end "
              + until
              + " (the topic was recreated or truncated, or a"
              + " reset went past the end); check the topic, then restart from a valid position (dataLossPolicy(SKIP)"
              + " would continue at the log end "
              + until
              + " without reading offsets ["
              + from
              + ", "
              + until
              + "))";
    };
  }

  /** Which case of data loss this is. */
  public Reason reason() {
    return reason(expectedOffset, availableFrom);
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

  /**
   * The log end (or last stable) offset when the loss was found, or -1 when the partition is gone.
   */
  public long availableUntil() {
    return availableUntil;
  }
}
