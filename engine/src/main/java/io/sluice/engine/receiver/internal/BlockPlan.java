package io.sluice.engine.receiver.internal;

import java.util.List;

/**
 * A receiver stream's plan of one batch: the blocks allocated to it, in the order they were stored,
 * and how many records they hold.
 *
 * @param blockIds the blocks
 * @param records their records
 */
public record BlockPlan(List<String> blockIds, long records) {

  /** Copies the list. */
  public BlockPlan {
    blockIds = List.copyOf(blockIds);
  }
}
