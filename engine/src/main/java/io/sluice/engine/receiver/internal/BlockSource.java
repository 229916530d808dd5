package io.sluice.engine.receiver.internal;

import java.util.List;
import java.util.Map;

/**
 * Where a receiver stream's blocks go and come back from: in memory only ({@link ReceivedBlocks}),
 * or written ahead to a log first ({@link WalBlocks}). Thread-safe.
 *
 * @param <T> record type
 */
interface BlockSource<T> extends AutoCloseable {

  /** Stores a block; returns once it is held (durable, for a write-ahead log). */
  default void add(List<T> records) {
    add(records, Map.of());
  }

  /**
   * Stores a block with the source's marks (e.g. the Kafka positions it reaches); returns once both
   * are held (durable, for a write-ahead log).
   */
  void add(List<T> records, Map<String, String> marks);

  /** The latest value of each mark stored with this stream's blocks. */
  Map<String, String> marks();

  /** Allocates every block not yet allocated to batch {@code batchId}. */
  BlockPlan allocate(long batchId);

  /**
   * Numbers the next stored block at least {@code next}: the committed progress stands there.
   * Called before the receiver starts.
   */
  void advanceTo(long next);

  /** The records of {@code blockId}. */
  List<T> read(String blockId);

  /** Forgets the blocks of every batch up to {@code batchId}: their outputs committed. */
  void committed(long batchId);

  /** Records in blocks no batch took yet. */
  int unallocatedRecords();

  @Override
  default void close() {}
}
