package io.sluice.engine.receiver.internal;

import java.util.List;
import java.util.Map;

/** One entry of the received-block tracker's log; encoded by {@link TrackerEventCodec}. */
sealed interface TrackerEvent {

  /** A block was stored (its data already durable in the stream's write-ahead log). */
  record BlockAdded(ReceivedBlock block) implements TrackerEvent {}

  /** These blocks, by stream, make up batch {@code batchId}; possibly none. */
  record BatchAllocated(long batchId, Map<String, List<Long>> blockIds) implements TrackerEvent {}

  /** Allocations of batches up to {@code upToBatchId} are forgotten: those batches committed. */
  record BatchCleaned(long upToBatchId) implements TrackerEvent {}

  /**
   * The whole state at compaction; replay starts over from it. {@code marks}: per stream, the
   * latest value of each mark stored with its blocks (kept after the blocks are cleaned).
   */
  record Checkpoint(
      long lastAllocated,
      long cleanedUpTo,
      List<ReceivedBlock> unallocated,
      List<BatchAllocation> allocations,
      Map<String, Map<String, String>> marks)
      implements TrackerEvent {}
}
