package io.sluice.engine.receiver.internal;

import io.sluice.engine.Clock;
import io.sluice.engine.state.StateSerde;
import java.nio.ByteBuffer;
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
  private final StateSerde<T> serde;
  private final Map<Long, List<T>> held = new HashMap<>(); // guarded by this
  private final Map<Long, WalPointer> pointers = new HashMap<>(); // guarded by this
  private long nextBlock; // guarded by this
  private long allocatedUntil; // guarded by this

  /**
   * Opens (and recovers) the log and the tracker of {@code stream} under {@code dir}: blocks not
   * allocated before the restart go to the next batch, and the blocks of uncommitted batches are
   * read back when those batches are replayed.
   */
  WalBlocks(String stream, Path dir, Clock clock, StateSerde<T> serde) {
    this.stream = stream;
    this.serde = serde;
    this.wal = WriteAheadLog.open(stream, dir.resolve("wal"), WalSettings.defaults(), clock);
    this.tracker = ReceivedBlockTracker.open(dir.resolve("blocks"), clock);
    for (ReceivedBlock b : tracker.unallocatedBlocks().getOrDefault(stream, List.of())) {
      remember(b);
    }
    for (BatchAllocation a : tracker.allocatedBatches()) {
      a.blocks().getOrDefault(stream, List.of()).forEach(this::remember);
    }
    List<ReceivedBlock> waiting = tracker.unallocatedBlocks().getOrDefault(stream, List.of());
    allocatedUntil = waiting.isEmpty() ? nextBlock : waiting.get(0).blockId();
  }

  private void remember(ReceivedBlock b) {
    pointers.put(b.blockId(), b.walPointer());
    nextBlock = Math.max(nextBlock, b.blockId() + 1);
  }

  @Override
  public synchronized void add(List<T> records, Map<String, String> marks) {
    long id = nextBlock++;
    WalPointer pointer = wal.appendAndSync(encode(records));
    tracker.addBlock(new ReceivedBlock(stream, id, pointer, records.size(), marks));
    pointers.put(id, pointer);
    held.put(id, List.copyOf(records));
  }

  /**
   * Allocates every unallocated block to {@code batchId} (or gives the blocks it was allocated
   * before a restart). Holds the add lock, so every block numbered before the allocation is in it.
   */
  @Override
  public synchronized BlockPlan allocate(long batchId) {
    List<ReceivedBlock> blocks =
        tracker.allocateBlocksToBatch(batchId).blocks().getOrDefault(stream, List.of());
    List<String> ids = new ArrayList<>(blocks.size());
    long records = 0;
    long from = blocks.isEmpty() ? allocatedUntil : blocks.get(0).blockId();
    long expected = from;
    for (ReceivedBlock b : blocks) {
      if (b.blockId() != expected) {
        throw new IllegalStateException(
            "receiver stream '"
                + stream
                + "': batch "
                + batchId
                + " was allocated blocks "
                + blocks.stream().map(ReceivedBlock::blockId).toList()
                + ", which are not consecutive from "
                + from);
      }
      expected++;
      ids.add(Long.toString(b.blockId()));
      records += b.numRecords();
    }
    allocatedUntil = Math.max(allocatedUntil, expected);
    return new BlockPlan(ids, records, BlockPlan.sequenceOf(stream), from, expected);
  }

  @Override
  public synchronized void advanceTo(long next) {
    if (next > nextBlock) {
      if (!tracker.unallocatedBlocks().getOrDefault(stream, List.of()).isEmpty()) {
        throw new IllegalStateException(
            "receiver stream '"
                + stream
                + "': the committed progress stands at block "
                + next
                + ", past blocks its write-ahead log still holds unallocated (up to "
                + (nextBlock - 1)
                + "): the log does not belong to this progress");
      }
      nextBlock = next;
      allocatedUntil = next;
    }
  }

  @Override
  public Map<String, String> marks() {
    return tracker.marks(stream);
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
    return decode(blockId, wal.read(pointer));
  }

  /** A block's bytes: the record count, then each record's length and bytes. */
  private byte[] encode(List<T> records) {
    List<byte[]> parts = new ArrayList<>(records.size());
    long size = 4;
    for (T r : records) {
      byte[] b = serde.serialize(r);
      parts.add(b);
      size += 4L + b.length;
    }
    if (size > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException(
          "a block of receiver stream '" + stream + "' is " + size + " bytes, over 2 GiB");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) size);
    buf.putInt(parts.size());
    for (byte[] b : parts) {
      buf.putInt(b.length).put(b);
    }
    return buf.array();
  }

  private List<T> decode(String blockId, byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    try {
      int n = buf.getInt();
      List<T> records = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        byte[] b = new byte[buf.getInt()];
        buf.get(b);
        records.add(serde.deserialize(b));
      }
      return records;
    } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
      throw new IllegalStateException(
          "block " + blockId + " of receiver stream '" + stream + "' is malformed in its log", e);
    }
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
