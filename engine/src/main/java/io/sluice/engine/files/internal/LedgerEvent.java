package io.sluice.engine.files.internal;

import io.sluice.engine.files.internal.FilePlan.FileEntry;
import java.util.List;

/**
 * A change to a {@link FileLedger}, logged before it takes effect (encoded by {@link LedgerCodec}).
 */
sealed interface LedgerEvent {

  /** Batch {@code batchId} took {@code files}, numbered from {@code from}. */
  record Taken(long batchId, long from, List<FileEntry> files) implements LedgerEvent {
    public Taken {
      files = List.copyOf(files);
    }
  }

  /**
   * The stream's progress is {@code next}: files numbered from {@code next} on are no longer taken
   * (they are offered again), and the next file taken is numbered {@code next}.
   */
  record Moved(long next) implements LedgerEvent {}

  /** Every batch up to {@code batchId} committed. */
  record Committed(long batchId) implements LedgerEvent {}

  /** Files of committed batches that left the directory; their names are new again. */
  record Forgotten(List<String> names) implements LedgerEvent {
    public Forgotten {
      names = List.copyOf(names);
    }
  }

  /** The whole ledger; replaces everything logged before it. */
  record Snapshot(long next, long committed, List<TakenFile> files) implements LedgerEvent {
    public Snapshot {
      files = List.copyOf(files);
    }
  }

  /** A file the ledger holds: its number, the batch that took it, and what the batch saw. */
  record TakenFile(String name, long batchId, long seq, long size, long modifiedMillis) {}
}
