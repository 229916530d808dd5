package io.sluice.engine.receiver.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The blocks allocated to one batch: its plan for the receiver inputs.
 *
 * @param batchId the batch
 * @param blocks per stream, the blocks in the order they were added; streams without blocks are
 *     absent; unmodifiable
 */
public record BatchAllocation(long batchId, Map<String, List<ReceivedBlock>> blocks) {

  /** Copies the map. */
  public BatchAllocation {
    Map<String, List<ReceivedBlock>> copy = new LinkedHashMap<>();
    blocks.forEach((stream, list) -> copy.put(stream, List.copyOf(list)));
    blocks = java.util.Collections.unmodifiableMap(copy);
  }

  /** The blocks of {@code stream}, empty when it has none in this batch. */
  public List<ReceivedBlock> blocksOf(String stream) {
    return blocks.getOrDefault(stream, List.of());
  }

  /** Every block of the batch, stream by stream. */
  public List<ReceivedBlock> allBlocks() {
    List<ReceivedBlock> all = new ArrayList<>();
    blocks.values().forEach(all::addAll);
    return all;
  }

  /** Per stream, the ids of its blocks. */
  Map<String, List<Long>> blockIds() {
    Map<String, List<Long>> ids = new LinkedHashMap<>();
    blocks.forEach(
        (stream, list) -> ids.put(stream, list.stream().map(ReceivedBlock::blockId).toList()));
    return ids;
  }
}
