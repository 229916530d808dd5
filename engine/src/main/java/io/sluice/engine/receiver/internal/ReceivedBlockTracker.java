package io.sluice.engine.receiver.internal;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the metadata of received blocks: which blocks wait for a batch, and which blocks each batch
 * not yet cleaned was given. Every change is logged durably, before it takes effect, in its own
 * {@link WriteAheadLog} (one {@link TrackerEventCodec JSON event} per checksummed record), so a
 * restart rebuilds the unallocated blocks and the allocations of uncommitted batches exactly, and a
 * replayed batch gets the same blocks.
 *
 * <p><b>Compaction.</b> Once the events logged since the last checkpoint exceed {@code
 * compactAfterBytes} (and the size of that checkpoint), the next allocation or cleanup rolls the
 * log, writes the whole state as a checkpoint event at the start of the new segment, and deletes
 * the older segments. A crash between the two leaves the old segments and the checkpoint, which
 * replay reads in order: the checkpoint replaces what came before it.
 *
 * <p><b>Threads.</b> Thread-safe. {@link #addBlock} may be called by many block generators at once:
 * their fsyncs are shared (group commit). {@link #allocateBlocksToBatch} and {@link
 * #cleanupOldBatches}, from the job generator thread, exclude adds while they log, so no add slips
 * between a decision and its record. Every logging method blocks on an fsync.
 */
public final class ReceivedBlockTracker implements AutoCloseable {

  /** Compact once a megabyte of events has accumulated since the last checkpoint. */
  public static final long DEFAULT_COMPACT_AFTER_BYTES = 1L << 20;

  private static final Logger LOG = LoggerFactory.getLogger(ReceivedBlockTracker.class);

  private final WriteAheadLog log;
  private final long compactAfterBytes;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  /** Guarded by itself for reads and adds, and by the write lock for everything else. */
  private final TrackerState state;

  // Guarded by the write lock, or by state under the read lock.
  private long bytesSinceCheckpoint;
  private long checkpointBytes;

  private ReceivedBlockTracker(
      WriteAheadLog log,
      long compactAfterBytes,
      TrackerState state,
      long bytesSinceCheckpoint,
      long checkpointBytes) {
    this.log = log;
    this.compactAfterBytes = compactAfterBytes;
    this.state = state;
    this.bytesSinceCheckpoint = bytesSinceCheckpoint;
    this.checkpointBytes = checkpointBytes;
  }

  /**
   * Opens the tracker log in {@code dir} (e.g. {@code checkpointDir/receivers/tracker}) and replays
   * it. Blocks on file I/O.
   *
   * @param compactAfterBytes event bytes since the last checkpoint that make the next allocation or
   *     cleanup compact the log
   * @throws CheckpointException when the log is corrupt before its tail, newer than this code, or
   *     inconsistent (an event that contradicts the ones before it)
   */
  public static ReceivedBlockTracker open(Path dir, long compactAfterBytes, Clock clock) {
    if (compactAfterBytes < 1) {
      throw new IllegalArgumentException(
          "compactAfterBytes must be >= 1, was " + compactAfterBytes);
    }
    // One fsync per event: the tracker's events are few, and each must be durable before it acts.
    WalSettings settings =
        WalSettings.defaults()
            .withSyncInterval(Duration.ZERO)
            .withSegmentAge(Duration.ofDays(3650));
    WriteAheadLog log = WriteAheadLog.open("tracker", dir, settings, clock);
    try {
      TrackerState state = new TrackerState();
      long bytes = 0;
      long checkpointBytes = 0;
      int events = 0;
      try (WalIterator it = log.iterate()) {
        while (it.hasNext()) {
          WalRecord r = it.next();
          String where =
              log.directory()
                  + " segment "
                  + r.pointer().segment()
                  + " byte "
                  + r.pointer().offset();
          TrackerEvent event = TrackerEventCodec.decode(r.payload(), where);
          try {
            state.apply(event);
          } catch (IllegalStateException | IllegalArgumentException e) {
            throw new CheckpointException(
                "received-block tracker log "
                    + where
                    + " is inconsistent: "
                    + e.getMessage()
                    + "; remove the receivers' checkpoint to start over",
                e);
          }
          if (event instanceof TrackerEvent.Checkpoint) {
            bytes = 0;
            checkpointBytes = recordBytes(r.payload());
          } else {
            bytes += recordBytes(r.payload());
          }
          events++;
        }
      }
      LOG.info(
          "Received-block tracker {} recovered from {} events: {} unallocated blocks, {} batches"
              + " allocated and not cleaned (last allocated {})",
          dir,
          events,
          state.unallocated().values().stream().mapToInt(List::size).sum(),
          state.allocations().size(),
          state.lastAllocated());
      return new ReceivedBlockTracker(log, compactAfterBytes, state, bytes, checkpointBytes);
    } catch (RuntimeException e) {
      log.close();
      throw e;
    }
  }

  /** Opens with {@link #DEFAULT_COMPACT_AFTER_BYTES}. */
  public static ReceivedBlockTracker open(Path dir, Clock clock) {
    return open(dir, DEFAULT_COMPACT_AFTER_BYTES, clock);
  }

  /**
   * Records that {@code block} was stored; its data must already be durable in the stream's
   * write-ahead log. Returns once the record is durable; the block then waits for the next
   * allocation. Thread-safe; blocks on an fsync shared with concurrent adds.
   *
   * @throws IllegalStateException when the stream already holds a block with this id
   */
  public void addBlock(ReceivedBlock block) {
    Objects.requireNonNull(block, "block");
    byte[] event = TrackerEventCodec.encode(new TrackerEvent.BlockAdded(block));
    lock.readLock().lock();
    try {
      synchronized (state) {
        if (state.holds(block.stream(), block.blockId())) {
          throw new IllegalStateException(
              "block " + block.blockId() + " of stream " + block.stream() + " was already added");
        }
      }
      log.appendAndSync(event);
      synchronized (state) {
        state.add(block);
        bytesSinceCheckpoint += recordBytes(event);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Gives batch {@code batchId} every unallocated block of every stream, logged durably before it
   * returns; a batch may get no blocks. For a batch already allocated and not cleaned (a batch
   * replayed after a restart) returns the same allocation and logs nothing. Blocks adds while it
   * logs; blocks on an fsync.
   *
   * @throws IllegalStateException when {@code batchId} is not above the last allocated batch and
   *     not held (it was cleaned)
   */
  public BatchAllocation allocateBlocksToBatch(long batchId) {
    lock.writeLock().lock();
    try {
      BatchAllocation existing = state.allocation(batchId);
      if (existing != null) {
        return existing;
      }
      if (batchId <= state.lastAllocated()) {
        throw new IllegalStateException(
            "batch "
                + batchId
                + " cannot be allocated: batches up to "
                + state.lastAllocated()
                + " were allocated, and this one is no longer held (cleaned up to "
                + state.cleanedUpTo()
                + ")");
      }
      Map<String, List<Long>> ids = state.unallocatedIds();
      logLocked(new TrackerEvent.BatchAllocated(batchId, ids));
      BatchAllocation allocation;
      synchronized (state) {
        allocation = state.allocate(batchId, ids);
      }
      maybeCompactLocked();
      return allocation;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * The blocks allocated to {@code batchId}, while it is held (allocated and not cleaned).
   * Thread-safe; does not block on I/O.
   */
  public Optional<BatchAllocation> blocksOfBatch(long batchId) {
    synchronized (state) {
      return Optional.ofNullable(state.allocation(batchId));
    }
  }

  /**
   * The latest value of each mark stored with a block of {@code stream}, kept after its blocks are
   * cleaned and across restarts. Thread-safe; no I/O.
   */
  public Map<String, String> marks(String stream) {
    synchronized (state) {
      return state.marks(stream);
    }
  }

  /** Per stream, the blocks waiting for a batch, oldest first. Thread-safe; no I/O. */
  public Map<String, List<ReceivedBlock>> unallocatedBlocks() {
    synchronized (state) {
      return state.unallocated();
    }
  }

  /** The allocations held (not cleaned), by ascending batch id. Thread-safe; no I/O. */
  public List<BatchAllocation> allocatedBatches() {
    synchronized (state) {
      return state.allocations();
    }
  }

  /** The highest batch id allocated, or -1. Thread-safe; no I/O. */
  public long lastAllocatedBatch() {
    synchronized (state) {
      return state.lastAllocated();
    }
  }

  /**
   * Forgets the allocations of every batch up to {@code upToBatchId} (they committed), logged
   * durably first. Idempotent: a bound at or below an earlier one logs nothing. Blocks adds while
   * it logs; blocks on an fsync.
   *
   * @return per stream, the lowest write-ahead log segment a block still held is in ({@link
   *     #firstNeededSegments()}); the caller deletes that stream's segments below it, and below the
   *     segment of any block it wrote but has not yet added
   * @throws IllegalArgumentException when {@code upToBatchId} is above the last allocated batch
   */
  public Map<String, Long> cleanupOldBatches(long upToBatchId) {
    lock.writeLock().lock();
    try {
      if (upToBatchId > state.lastAllocated()) {
        throw new IllegalArgumentException(
            "cannot clean up to batch "
                + upToBatchId
                + ": the last allocated batch is "
                + state.lastAllocated());
      }
      if (upToBatchId > state.cleanedUpTo()) {
        logLocked(new TrackerEvent.BatchCleaned(upToBatchId));
        synchronized (state) {
          state.clean(upToBatchId);
        }
        maybeCompactLocked();
      }
      return state.firstNeededSegments();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Per stream holding a block with a write-ahead log pointer, the lowest segment such a block is
   * in; a stream absent holds no block. Thread-safe; no I/O.
   */
  public Map<String, Long> firstNeededSegments() {
    synchronized (state) {
      return state.firstNeededSegments();
    }
  }

  /** The segments of the tracker's own log, for tests and diagnostics. */
  List<Long> logSegments() {
    return log.segments();
  }

  /** Closes the log. Idempotent; blocks on the final fsync. */
  @Override
  public void close() {
    log.close();
  }

  private void logLocked(TrackerEvent event) {
    byte[] bytes = TrackerEventCodec.encode(event);
    log.appendAndSync(bytes);
    bytesSinceCheckpoint += recordBytes(bytes);
  }

  private void maybeCompactLocked() {
    if (bytesSinceCheckpoint <= Math.max(compactAfterBytes, checkpointBytes)) {
      return;
    }
    long segment = log.roll();
    byte[] checkpoint = TrackerEventCodec.encode(state.checkpoint());
    log.appendAndSync(checkpoint);
    List<Long> deleted = log.deleteSegmentsBefore(segment);
    LOG.debug(
        "Compacted the received-block tracker log {}: {} event bytes replaced by a {}-byte"
            + " checkpoint in segment {}; deleted segments {}",
        log.directory(),
        bytesSinceCheckpoint,
        checkpoint.length,
        segment,
        deleted);
    checkpointBytes = recordBytes(checkpoint);
    bytesSinceCheckpoint = 0;
  }

  private static long recordBytes(byte[] payload) {
    return (long) WalFormat.RECORD_HEADER_LENGTH + payload.length;
  }
}
