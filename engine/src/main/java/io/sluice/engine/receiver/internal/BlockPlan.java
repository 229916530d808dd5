package io.sluice.engine.receiver.internal;

import io.sluice.engine.SequencedPlan;
import java.util.List;

/**
 * A receiver stream's plan of one batch: the blocks allocated to it, in the order they were stored,
 * how many records they hold, and the block sequence numbers {@code [from, until)} they cover (the
 * stream's progress, committed by an exactly-once output).
 *
 * @param blockIds the blocks
 * @param records their records
 * @param sequence the stream's sequence name ({@code receiver:<stream>})
 * @param from the first block number
 * @param until one past the last block number ({@code from} when no block)
 */
public record BlockPlan(List<String> blockIds, long records, String sequence, long from, long until)
    implements SequencedPlan {

  /** Copies the list and checks the range covers it. */
  public BlockPlan {
    blockIds = List.copyOf(blockIds);
    if (from < 0 || until - from != blockIds.size()) {
      throw new IllegalArgumentException(
          "blocks [" + from + ", " + until + ") cannot hold " + blockIds.size() + " blocks");
    }
  }

  /** The sequence name of receiver stream {@code stream}. */
  static String sequenceOf(String stream) {
    return "receiver:" + stream;
  }
}
