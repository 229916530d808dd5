package io.sluice.offsets;

/**
 * The offsets one input stream read in one batch, with the consumer group they belong to. Kafka
 * input plans implement this so that a transactional sink can commit the batch's offsets inside its
 * own transaction without knowing which stream produced them.
 */
public interface StreamOffsets extends HasOffsetRanges {

  /** The consumer group (the offset store key) these ranges are committed under. */
  String group();

  /**
   * For partitions whose range does not begin at the committed position because the offsets between
   * were lost and skipped ({@code DataLossPolicy.SKIP}): the committed next offset the range
   * continues from (see {@link BatchCommit#expectedFrom()}). Empty for an ordinary batch.
   */
  default java.util.Map<org.apache.kafka.common.TopicPartition, Long> committedFrom() {
    return java.util.Map.of();
  }
}
