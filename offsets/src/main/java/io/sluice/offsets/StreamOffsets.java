package io.sluice.offsets;

/**
 * The offsets one input stream read in one batch, with the consumer group they belong to. Kafka
 * input plans implement this so that a transactional sink can commit the batch's offsets inside
 * its own transaction without knowing which stream produced them.
 */
public interface StreamOffsets extends HasOffsetRanges {

  /** The consumer group (the offset store key) these ranges are committed under. */
  String group();
}
