package io.sluice.engine.receiver.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A receiver stream's stored blocks, in memory: blocks not yet allocated to a batch, and those of
 * every batch not yet committed. A batch takes every unallocated block when it is planned; its
 * blocks are dropped when it commits. Thread-safe.
 *
 * @param <T> record type
 */
public final class ReceivedBlocks<T> implements BlockSource<T> {

  private final String stream;
  private final Map<String, Block<T>> blocks = new HashMap<>();
  private final List<String> unallocated = new ArrayList<>();
  private final NavigableMap<Long, List<String>> byBatch = new TreeMap<>();

  /** Blocks of {@code stream}. */
  public ReceivedBlocks(String stream) {
    this.stream = stream;
  }

  private final String runId = java.util.UUID.randomUUID().toString().substring(0, 8);
  private long nextBlock;
  private long allocatedUntil;
  private final Map<String, String> marks = new HashMap<>();

  /** Adds a stored block, to be allocated to the next batch. */
  synchronized void add(Block<T> block) {
    blocks.put(block.id(), block);
    unallocated.add(block.id());
  }

  @Override
  public synchronized void add(List<T> records, Map<String, String> blockMarks) {
    add(new Block<>(stream + "-" + runId + "-" + nextBlock++, records));
    marks.putAll(blockMarks);
  }

  @Override
  public synchronized Map<String, String> marks() {
    return Map.copyOf(marks);
  }

  /** Allocates every unallocated block to {@code batchId}. */
  @Override
  public synchronized BlockPlan allocate(long batchId) {
    List<String> ids = List.copyOf(unallocated);
    unallocated.clear();
    byBatch.put(batchId, ids);
    long records = 0;
    for (String id : ids) {
      records += blocks.get(id).records().size();
    }
    long from = allocatedUntil;
    allocatedUntil += ids.size();
    return new BlockPlan(ids, records, BlockPlan.sequenceOf(stream), from, allocatedUntil);
  }

  @Override
  public synchronized void advanceTo(long next) {
    if (unallocated.isEmpty() && next > allocatedUntil) {
      allocatedUntil = next;
    }
  }

  /**
   * The records of {@code blockId}.
   *
   * @throws IllegalStateException when the block is not held (lost in a crash without a write-ahead
   *     log)
   */
  @Override
  public synchronized List<T> read(String blockId) {
    Block<T> b = blocks.get(blockId);
    if (b == null) {
      throw new IllegalStateException(
          "block "
              + blockId
              + " of receiver stream '"
              + stream
              + "' is not held: its records were lost with the process that received them");
    }
    return b.records();
  }

  /** Drops the blocks of every batch up to {@code batchId}: their outputs committed. */
  @Override
  public synchronized void committed(long batchId) {
    NavigableMap<Long, List<String>> done = byBatch.headMap(batchId, true);
    done.values().forEach(ids -> ids.forEach(blocks::remove));
    done.clear();
  }

  /** Records in blocks not yet allocated to a batch. */
  @Override
  public synchronized int unallocatedRecords() {
    int n = 0;
    for (String id : unallocated) {
      n += blocks.get(id).records().size();
    }
    return n;
  }
}
