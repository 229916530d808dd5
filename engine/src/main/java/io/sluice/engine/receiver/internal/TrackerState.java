package io.sluice.engine.receiver.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the received-block tracker knows: the unallocated blocks per stream, in the order they were
 * added, and the allocations of batches not yet cleaned. Every change is one {@link TrackerEvent},
 * applied the same way live and on replay, so replay rebuilds exactly the state that was logged.
 *
 * <p>Not thread-safe: {@link ReceivedBlockTracker} guards it.
 */
final class TrackerState {

  private final Map<String, LinkedHashMap<Long, ReceivedBlock>> unallocated = new LinkedHashMap<>();
  private final TreeMap<Long, BatchAllocation> allocations = new TreeMap<>();
  private long lastAllocated = -1;
  private long cleanedUpTo = -1;
  private final Map<String, Map<String, String>> marks = new LinkedHashMap<>();

  /**
   * Applies one event.
   *
   * @throws IllegalStateException when the event contradicts the state (a block added twice, an
   *     allocation of unknown blocks, batch ids going backwards)
   */
  void apply(TrackerEvent event) {
    if (event instanceof TrackerEvent.BlockAdded e) {
      add(e.block());
    } else if (event instanceof TrackerEvent.BatchAllocated e) {
      allocate(e.batchId(), e.blockIds());
    } else if (event instanceof TrackerEvent.BatchCleaned e) {
      clean(e.upToBatchId());
    } else if (event instanceof TrackerEvent.Checkpoint e) {
      reset(e);
    }
  }

  void add(ReceivedBlock block) {
    if (holds(block.stream(), block.blockId())) {
      throw new IllegalStateException(
          "block " + block.blockId() + " of stream " + block.stream() + " was already added");
    }
    unallocated
        .computeIfAbsent(block.stream(), s -> new LinkedHashMap<>())
        .put(block.blockId(), block);
    if (!block.metadata().isEmpty()) {
      marks.computeIfAbsent(block.stream(), s -> new LinkedHashMap<>()).putAll(block.metadata());
    }
  }

  /** The latest value of each mark stored with a block of {@code stream}; a copy. */
  Map<String, String> marks(String stream) {
    return Map.copyOf(marks.getOrDefault(stream, Map.of()));
  }

  BatchAllocation allocate(long batchId, Map<String, List<Long>> blockIds) {
    if (batchId <= lastAllocated) {
      throw new IllegalStateException(
          "batch " + batchId + " allocated after batch " + lastAllocated + "; ids must increase");
    }
    Map<String, List<ReceivedBlock>> blocks = new LinkedHashMap<>();
    blockIds.forEach(
        (stream, ids) -> {
          LinkedHashMap<Long, ReceivedBlock> waiting =
              unallocated.getOrDefault(stream, new LinkedHashMap<>());
          for (Long id : ids) {
            if (!waiting.containsKey(id)) {
              throw new IllegalStateException(
                  "batch "
                      + batchId
                      + " takes block "
                      + id
                      + " of stream "
                      + stream
                      + ", which is not an unallocated block");
            }
          }
          List<ReceivedBlock> taken = new ArrayList<>();
          ids.forEach(id -> taken.add(waiting.remove(id)));
          if (!taken.isEmpty()) {
            blocks.put(stream, taken);
          }
        });
    unallocated.values().removeIf(Map::isEmpty);
    BatchAllocation allocation = new BatchAllocation(batchId, blocks);
    allocations.put(batchId, allocation);
    lastAllocated = batchId;
    return allocation;
  }

  /** Forgets the allocations of batches up to {@code upTo}; returns them. */
  List<BatchAllocation> clean(long upTo) {
    List<BatchAllocation> cleaned = new ArrayList<>();
    Iterator<BatchAllocation> it = allocations.headMap(upTo, true).values().iterator();
    while (it.hasNext()) {
      cleaned.add(it.next());
      it.remove();
    }
    cleanedUpTo = Math.max(cleanedUpTo, upTo);
    return cleaned;
  }

  private void reset(TrackerEvent.Checkpoint c) {
    unallocated.clear();
    allocations.clear();
    lastAllocated = -1;
    cleanedUpTo = -1;
    marks.clear();
    c.marks().forEach((stream, m) -> marks.put(stream, new LinkedHashMap<>(m)));
    c.unallocated().forEach(this::add);
    for (BatchAllocation a : c.allocations()) {
      a.allBlocks().forEach(this::checkNotHeld);
      allocations.put(a.batchId(), a);
    }
    lastAllocated = c.lastAllocated();
    cleanedUpTo = c.cleanedUpTo();
  }

  private void checkNotHeld(ReceivedBlock b) {
    if (holds(b.stream(), b.blockId())) {
      throw new IllegalStateException(
          "block " + b.blockId() + " of stream " + b.stream() + " is held twice");
    }
  }

  boolean holds(String stream, long blockId) {
    LinkedHashMap<Long, ReceivedBlock> waiting = unallocated.get(stream);
    if (waiting != null && waiting.containsKey(blockId)) {
      return true;
    }
    for (BatchAllocation a : allocations.values()) {
      for (ReceivedBlock b : a.blocksOf(stream)) {
        if (b.blockId() == blockId) {
          return true;
        }
      }
    }
    return false;
  }

  /** Per stream, the ids of every unallocated block, in the order they were added. */
  Map<String, List<Long>> unallocatedIds() {
    Map<String, List<Long>> ids = new LinkedHashMap<>();
    unallocated.forEach((stream, blocks) -> ids.put(stream, List.copyOf(blocks.keySet())));
    return ids;
  }

  /** Per stream, a copy of the unallocated blocks. */
  Map<String, List<ReceivedBlock>> unallocated() {
    Map<String, List<ReceivedBlock>> copy = new LinkedHashMap<>();
    unallocated.forEach((stream, blocks) -> copy.put(stream, List.copyOf(blocks.values())));
    return copy;
  }

  BatchAllocation allocation(long batchId) {
    return allocations.get(batchId);
  }

  List<BatchAllocation> allocations() {
    return List.copyOf(allocations.values());
  }

  long lastAllocated() {
    return lastAllocated;
  }

  long cleanedUpTo() {
    return cleanedUpTo;
  }

  TrackerEvent.Checkpoint checkpoint() {
    List<ReceivedBlock> waiting = new ArrayList<>();
    unallocated.values().forEach(blocks -> waiting.addAll(blocks.values()));
    Map<String, Map<String, String>> markCopy = new LinkedHashMap<>();
    marks.forEach((stream, m) -> markCopy.put(stream, Map.copyOf(m)));
    return new TrackerEvent.Checkpoint(
        lastAllocated, cleanedUpTo, waiting, allocations(), markCopy);
  }

  /**
   * Per stream holding a block with a write-ahead log pointer, the lowest segment such a block is
   * in: segments below it hold nothing this state still needs.
   */
  Map<String, Long> firstNeededSegments() {
    Map<String, Long> first = new TreeMap<>();
    unallocated.values().forEach(blocks -> blocks.values().forEach(b -> need(first, b)));
    allocations.values().forEach(a -> a.allBlocks().forEach(b -> need(first, b)));
    return first;
  }

  private static void need(Map<String, Long> first, ReceivedBlock b) {
    if (b.walPointer() != null) {
      first.merge(b.stream(), b.walPointer().segment(), Math::min);
    }
  }
}
