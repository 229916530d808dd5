package io.sluice.engine.receiver.internal;

import io.sluice.engine.Clock;
import io.sluice.engine.state.StateSerde;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A receiver stream's blocks written ahead: each block is appended to the stream's {@link
 * WriteAheadLog} and fsynced, then recorded in its {@link ReceivedBlockTracker}, before {@link
 * #add} returns, so a stored block survives a crash; its records stay in memory for the batch that
 * reads them, and a block recovered after a restart is read back from the log. A batch's allocation
 * is logged by the tracker, so a replayed batch gets the same blocks. Segments are deleted once
 * every block in them belongs to a committed batch. Thread-safe: adds are serialized (append,
 * fsync, record), which also keeps a block written but not yet recorded from having its segment
 * deleted.
 *
 * @param <T> record type
 */
final class WalBlocks<T> implements BlockSource<T> {

  private final String stream;
  private final WriteAheadLog wal;
  private final ReceivedBlockTracker tracker;
  private final StateSerde<List<T>> serde = StateSerde.typedJson();
  private final Map<Long, List<T>> held = new HashMap<>(); // guarded by this
  private final Map<Long, WalPointer> pointers = new HashMap<>(); // guarded by this
  private long nextBlock; // guarded by this

  /**
   * Opens (and recovers) the log and the tracker of {@code stream} under {@code dir}: blocks not
   * allocated before the restart go to the next batch, and the blocks of uncommitted batches are
   * read back when those batches are replayed.
   */
  WalBlocks(String stream, Path dir, Clock clock) {
    this.stream = stream;
    this.wal = WriteAheadLog.open(stream, dir.resolve("wal"), WalSettings.defaults(), clock);
    this.tracker = ReceivedBlockTracker.open(dir.resolve("blocks"), clock);
    for (ReceivedBlock b : tracker.unallocatedBlocks().getOrDefault(stream, List.of())) {
      remember(b);
    }
    for (BatchAllocation a : tracker.allocatedBatches()) {
      a.blocks().getOrDefault(stream, List.of()).forEach(this::remember);
    }
  }

  private void remember(ReceivedBlock b) {
    pointers.put(b.blockId(), b.walPointer());
    nextBlock = Math.max(nextBlock, b.blockId() + 1);
  }

  @Override
  public synchronized void add(List<T> records) {
    long id = nextBlock++;
    WalPointer pointer = wal.appendAndSync(serde.serialize(List.copyOf(records)));
    tracker.addBlock(new ReceivedBlock(stream, id, pointer, records.size(), Map.of()));
    pointers.put(id, pointer);
    held.put(id, List.copyOf(records));
  }

  @Override
  public BlockPlan allocate(long batchId) {
    List<ReceivedBlock> blocks =
        tracker.allocateBlocksToBatch(batchId).blocks().getOrDefault(stream, List.of());
    List<String> ids = new ArrayList<>(blocks.size());
    long records = 0;
    for (ReceivedBlock b : blocks) {
      ids.add(Long.toString(b.blockId()));
      records += b.numRecords();
    }
    return new BlockPlan(ids, records);
  }

  @Override
  public synchronized List<T> read(String blockId) {
    long id = Long.parseLong(blockId);
    List<T> records = held.get(id);
    if (records != null) {
      return records;
    }
    WalPointer pointer = pointers.get(id);
    if (pointer == null) {
      throw new IllegalStateException(
          "block " + blockId + " of receiver stream '" + stream + "' is in no write-ahead log");
    }
    return serde.deserialize(wal.read(pointer));
  }

  @Override
  public synchronized void committed(long batchId) {
    for (BatchAllocation a : tracker.allocatedBatches()) {
      if (a.batchId() <= batchId) {
        for (ReceivedBlock b : a.blocks().getOrDefault(stream, List.of())) {
          held.remove(b.blockId());
          pointers.remove(b.blockId());
        }
      }
    }
    Map<String, Long> needed = tracker.cleanupOldBatches(batchId);
    Long first = needed.get(stream);
    wal.deleteSegmentsBefore(first != null ? first : wal.activeSegment());
  }

  @Override
  public int unallocatedRecords() {
    long n = 0;
    for (ReceivedBlock b : tracker.unallocatedBlocks().getOrDefault(stream, List.of())) {
      n += b.numRecords();
    }
    return (int) n;
  }

  @Override
  public void close() {
    tracker.close();
    wal.close();
  }
}
