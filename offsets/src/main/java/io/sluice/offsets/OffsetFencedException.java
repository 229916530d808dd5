package io.sluice.offsets;

import org.apache.kafka.common.TopicPartition;

/**
 * A commit was refused because a partition's committed next offset is not where the batch's range
 * begins: since the batch was planned, another driver committed this group or an operator reset it
 * ({@code sluice offsets reset|import}). Commits are fenced by offsets, checked in the same atomic
 * step as the write, so progress written by someone else is never overwritten.
 */
public class OffsetFencedException extends OffsetStoreException {

  private static final long serialVersionUID = 1L;

  private final String group;
  private final long batchId;
  private final transient TopicPartition topicPartition;
  private final long fromOffset;
  private final long storedOffset;

  /**
   * Creates the exception.
   *
   * @param where the store or place that refused, for the message (e.g. {@code
   *     jdbc(sluice_offset*)})
   * @param group the group of the refused commit
   * @param batchId the refused batch id
   * @param topicPartition the first partition whose position differs
   * @param fromOffset where the batch's range for that partition begins
   * @param storedOffset the committed next offset found for that partition
   */
  public OffsetFencedException(
      String where,
      String group,
      long batchId,
      TopicPartition topicPartition,
      long fromOffset,
      long storedOffset) {
    super(
        "commit of batch "
            + batchId
            + " for group '"
            + group
            + "' refused by "
            + where
            + ": partition "
            + topicPartition
            + ": the batch's range starts at offset "
            + fromOffset
            + " but the committed next offset"
            + " is "
            + storedOffset
            + "; another driver or a reset (sluice offsets reset/import) moved this group."
            + " Stop the other driver; a restart continues from the committed position");
    this.group = group;
    this.batchId = batchId;
    this.topicPartition = topicPartition;
    this.fromOffset = fromOffset;
    this.storedOffset = storedOffset;
  }

  /** The group of the refused commit. */
  public String group() {
    return group;
  }

  /** The refused batch id. */
  public long batchId() {
    return batchId;
  }

  /** The first partition whose committed position differs from the batch's range. */
  public TopicPartition topicPartition() {
    return topicPartition;
  }

  /** Where the batch's range for {@link #topicPartition()} begins. */
  public long fromOffset() {
    return fromOffset;
  }

  /** The committed next offset found for {@link #topicPartition()}. */
  public long storedOffset() {
    return storedOffset;
  }
}
