package io.sluice.offsets;

import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * A commit was refused because a range of it does not begin where the store stands: the store holds
 * a next offset for the range's partition, and it is not the range's {@code fromOffset}. Something
 * other than this driver moved the group since the batch was planned: another driver committing
 * for the same group, or an operator's reset ({@code sluice offsets reset} or {@code import}).
 * Nothing of the commit was written.
 *
 * <p>Not retriable: the batch was planned from a position that no longer holds. Stop the other
 * driver; a restart plans its first batch from the store's position.
 */
public class OffsetFencedException extends OffsetStoreException {

  private static final long serialVersionUID = 1L;

  private final String group;
  private final long batchId;
  private final TopicPartition topicPartition;
  private final long fromOffset;
  private final long storedOffset;

  /**
   * Creates the exception for the first refused partition of a commit.
   *
   * @param store the store's description, e.g. {@code jdbc(sluice_offset*)}
   * @param group the group of the refused commit
   * @param batchId the refused batch id
   * @param topicPartition the partition whose range does not begin at the stored position
   * @param fromOffset where the batch's range of that partition begins
   * @param storedOffset the store's next offset of that partition
   */
  public OffsetFencedException(String store, String group, long batchId, TopicPartition topicPartition,
      long fromOffset, long storedOffset) {
    super("commit of batch " + batchId + " for group '" + group + "' refused by " + store + ": partition "
        + topicPartition + ": the batch's range starts at offset " + fromOffset + " but the store's next offset is "
        + storedOffset + "; another driver or a reset (sluice offsets reset/import) moved this group."
        + " Stop the other driver; a restart continues from the store");
    this.group = group;
    this.batchId = batchId;
    this.topicPartition = Objects.requireNonNull(topicPartition, "topicPartition");
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

  /** The first partition, in topic then partition order, whose range does not begin at the stored position. */
  public TopicPartition topicPartition() {
    return topicPartition;
  }

  /** Where the batch's range of {@link #topicPartition()} begins. */
  public long fromOffset() {
    return fromOffset;
  }

  /** The store's next offset of {@link #topicPartition()} when the commit was refused. */
  public long storedOffset() {
    return storedOffset;
  }
}
