package io.sluice.engine.files.internal;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.Clock;
import io.sluice.engine.files.internal.FilePlan.FileEntry;
import io.sluice.engine.files.internal.LedgerEvent.Committed;
import io.sluice.engine.files.internal.LedgerEvent.Forgotten;
import io.sluice.engine.files.internal.LedgerEvent.Moved;
import io.sluice.engine.files.internal.LedgerEvent.Snapshot;
import io.sluice.engine.files.internal.LedgerEvent.Taken;
import io.sluice.engine.files.internal.LedgerEvent.TakenFile;
import io.sluice.engine.receiver.internal.WalIterator;
import io.sluice.engine.receiver.internal.WalRecord;
import io.sluice.engine.receiver.internal.WalSettings;
import io.sluice.engine.receiver.internal.WriteAheadLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which files of a directory stream were taken by which batch, and under which number: a file the
 * ledger holds is never offered to a batch again. Every file a batch takes is numbered, one after
 * the other from {@link #next()}; those numbers are the stream's progress.
 *
 * <p><b>Durability.</b> Opened on a directory ({@link #open}), every change is first appended to
 * the ledger's own checksummed {@link WriteAheadLog} and fsynced (one {@link LedgerCodec JSON
 * event} per record), and takes effect only then; a restart rebuilds the ledger exactly, a torn
 * last record is cut by the log, damage before it is refused. Without a directory ({@link
 * #inMemory}) the ledger lives and dies with the process.
 *
 * <p><b>Bound.</b> A file stays in the ledger while it is in the directory: once a batch that took
 * it has committed and the file is no longer listed, {@link #forgetAbsent} drops it, and a later
 * file of the same name is new. So the ledger holds the files of uncommitted batches and the
 * committed files still in the directory, no more. The log is compacted into one snapshot at every
 * open and whenever the events since the last snapshot outgrow it (and {@value
 * #COMPACT_AFTER_BYTES} bytes): a snapshot is appended and fsynced in a new segment before the
 * older segments are deleted, so a crash between the two leaves both, and the snapshot replaces
 * what came before it.
 *
 * <p><b>Threads.</b> Thread-safe (every method holds the ledger's lock): the job generator plans
 * and recovers, the job scheduler commits. Methods that change the ledger block on an fsync.
 */
final class FileLedger implements AutoCloseable {

  /** Event bytes since the last snapshot that make the next change compact the log. */
  static final long COMPACT_AFTER_BYTES = 64 << 10;

  private static final Logger LOG = LoggerFactory.getLogger(FileLedger.class);

  private final String stream;
  private final WriteAheadLog log; // null: in memory only
  private final long compactAfterBytes;

  // Guarded by this.
  private final Map<String, TakenFile> files = new HashMap<>();
  private long next;
  private long committed = -1;
  private long bytesSinceSnapshot;
  private long snapshotBytes;

  private FileLedger(String stream, WriteAheadLog log, long compactAfterBytes) {
    this.stream = stream;
    this.log = log;
    this.compactAfterBytes = compactAfterBytes;
  }

  /** A ledger kept in memory only: a new process starts with an empty one. */
  static FileLedger inMemory(String stream) {
    return new FileLedger(stream, null, COMPACT_AFTER_BYTES);
  }

  /**
   * Opens the ledger logged in {@code dir} (created if missing), replays it and compacts it into a
   * snapshot. Blocks on file I/O.
   *
   * @throws CheckpointException when the log is damaged before its last record, newer than this
   *     code, or inconsistent (an event that contradicts the ones before it)
   */
  static FileLedger open(String stream, Path dir, Clock clock) {
    return open(stream, dir, clock, COMPACT_AFTER_BYTES);
  }

  /** As {@link #open(String, Path, Clock)}, compacting after {@code compactAfterBytes}. */
  static FileLedger open(String stream, Path dir, Clock clock, long compactAfterBytes) {
    if (compactAfterBytes < 1) {
      throw new IllegalArgumentException(
          "compactAfterBytes must be >= 1, was " + compactAfterBytes);
    }
    // One fsync per event: events are few (at most one per batch and one per commit).
    WalSettings settings =
        WalSettings.defaults()
            .withSyncInterval(Duration.ZERO)
            .withSegmentAge(Duration.ofDays(3650));
    WriteAheadLog log = WriteAheadLog.open("files-" + stream, dir, settings, clock);
    FileLedger ledger = new FileLedger(stream, log, compactAfterBytes);
    try {
      synchronized (ledger) {
        int events = ledger.replay();
        if (events > 0) {
          ledger.compact();
        }
        LOG.info(
            "file stream {}: ledger {} recovered from {} events: {} files held, next number {},"
                + " committed through batch {}",
            stream,
            dir,
            events,
            ledger.files.size(),
            ledger.next,
            ledger.committed);
      }
      return ledger;
    } catch (RuntimeException e) {
      log.close();
      throw e;
    }
  }

  private int replay() {
    int events = 0;
    try (WalIterator it = log.iterate()) {
      while (it.hasNext()) {
        WalRecord r = it.next();
        String where =
            log.directory() + " segment " + r.pointer().segment() + " byte " + r.pointer().offset();
        LedgerEvent event = LedgerCodec.decode(r.payload(), where);
        try {
          check(event);
        } catch (IllegalStateException e) {
          throw new CheckpointException(
              "file ledger "
                  + where
                  + " is inconsistent: "
                  + e.getMessage()
                  + "; remove the directory "
                  + log.directory()
                  + " to start over (every file in the stream's directory is then read again)",
              e);
        }
        apply(event);
        if (event instanceof Snapshot) {
          bytesSinceSnapshot = 0;
          snapshotBytes = r.payload().length;
        } else {
          bytesSinceSnapshot += r.payload().length;
        }
        events++;
      }
    }
    return events;
  }

  /** Whether a batch took a file named {@code name} that the ledger still holds. No I/O. */
  synchronized boolean holds(String name) {
    return files.containsKey(name);
  }

  /** The number the next file taken gets. No I/O. */
  synchronized long next() {
    return next;
  }

  /** The highest batch the ledger knows committed, or -1. No I/O. */
  synchronized long committed() {
    return committed;
  }

  /** The files held numbered {@code seq} or higher, by number. No I/O. */
  synchronized List<TakenFile> filesFrom(long seq) {
    List<TakenFile> out = new ArrayList<>();
    for (TakenFile f : files.values()) {
      if (f.seq() >= seq) {
        out.add(f);
      }
    }
    out.sort(Comparator.comparingLong(TakenFile::seq));
    return out;
  }

  /**
   * The lowest number of a file held that a batch above {@code batchId} took, or {@link #next()}
   * when none. No I/O.
   */
  synchronized long firstNumberAfterBatch(long batchId) {
    long first = next;
    for (TakenFile f : files.values()) {
      if (f.batchId() > batchId) {
        first = Math.min(first, f.seq());
      }
    }
    return first;
  }

  /**
   * Records that batch {@code batchId} takes {@code taken}, numbered from {@link #next()}; durable
   * before it returns. Nothing is logged for an empty list.
   *
   * @return the number of the first file (the former {@link #next()})
   * @throws IllegalStateException when the ledger already holds one of the names
   */
  synchronized long take(long batchId, List<FileEntry> taken) {
    long from = next;
    if (!taken.isEmpty()) {
      change(new Taken(batchId, from, taken));
    }
    return from;
  }

  /**
   * Sets the stream's progress to {@code position}: the files numbered from it on are no longer
   * held (a later batch takes them again), and the next file taken gets number {@code position}.
   * Logs nothing when that is already so.
   */
  synchronized void moveTo(long position) {
    if (position != next || !filesFrom(position).isEmpty()) {
      change(new Moved(position));
    }
  }

  /**
   * Records that every batch up to {@code batchId} committed. Logged only when it commits a file
   * the ledger holds: for batches without files, knowing it in memory is enough, so an idle stream
   * costs no fsync per batch.
   */
  synchronized void committed(long batchId) {
    if (batchId <= committed) {
      return;
    }
    boolean commitsAFile = false;
    for (TakenFile f : files.values()) {
      if (f.batchId() > committed && f.batchId() <= batchId) {
        commitsAFile = true;
        break;
      }
    }
    if (commitsAFile) {
      change(new Committed(batchId));
    } else {
      committed = batchId;
    }
  }

  /**
   * Drops the files of committed batches whose names are not in {@code present} (the directory's
   * listing): they left the directory, so a later file of the same name is new.
   *
   * @return the names dropped
   */
  synchronized List<String> forgetAbsent(Set<String> present) {
    List<String> gone = new ArrayList<>();
    for (TakenFile f : files.values()) {
      if (f.batchId() <= committed && !present.contains(f.name())) {
        gone.add(f.name());
      }
    }
    if (!gone.isEmpty()) {
      gone.sort(null);
      change(new Forgotten(gone));
    }
    return gone;
  }

  /** The log's segment ids, for tests. */
  synchronized List<Long> logSegments() {
    return log == null ? List.of() : log.segments();
  }

  /** Closes the log. Idempotent; blocks on the final fsync. */
  @Override
  public synchronized void close() {
    if (log != null) {
      log.close();
    }
  }

  // ---------------------------------------------------------------- changes

  private void change(LedgerEvent event) {
    check(event);
    if (log != null) {
      byte[] bytes = LedgerCodec.encode(event);
      log.appendAndSync(bytes);
      bytesSinceSnapshot += bytes.length;
    }
    apply(event);
    if (log != null && bytesSinceSnapshot > Math.max(compactAfterBytes, snapshotBytes)) {
      compact();
    }
  }

  /** Throws {@link IllegalStateException} when {@code event} contradicts the ledger. */
  private void check(LedgerEvent event) {
    if (event instanceof Taken t) {
      if (t.from() != next) {
        throw new IllegalStateException(
            "batch "
                + t.batchId()
                + " takes files numbered from "
                + t.from()
                + ", but the next number is "
                + next);
      }
      Set<String> names = new HashSet<>();
      for (FileEntry f : t.files()) {
        TakenFile held = files.get(f.name());
        if (held != null || !names.add(f.name())) {
          throw new IllegalStateException(
              "batch "
                  + t.batchId()
                  + " takes file '"
                  + f.name()
                  + "', which "
                  + (held != null ? "batch " + held.batchId() + " took" : "it lists twice"));
        }
      }
    } else if (event instanceof Moved m && m.next() < 0) {
      throw new IllegalStateException("the stream cannot move to number " + m.next());
    } else if (event instanceof Forgotten f) {
      for (String name : f.names()) {
        if (!files.containsKey(name)) {
          throw new IllegalStateException("it forgets file '" + name + "', which it does not hold");
        }
      }
    }
  }

  private void apply(LedgerEvent event) {
    if (event instanceof Taken t) {
      long seq = t.from();
      for (FileEntry f : t.files()) {
        files.put(
            f.name(), new TakenFile(f.name(), t.batchId(), seq++, f.size(), f.modifiedMillis()));
      }
      next = seq;
    } else if (event instanceof Moved m) {
      files.values().removeIf(f -> f.seq() >= m.next());
      next = m.next();
    } else if (event instanceof Committed c) {
      committed = Math.max(committed, c.batchId());
    } else if (event instanceof Forgotten f) {
      f.names().forEach(files::remove);
    } else if (event instanceof Snapshot s) {
      files.clear();
      s.files().forEach(f -> files.put(f.name(), f));
      next = s.next();
      committed = s.committed();
    }
  }

  /**
   * Writes the whole ledger as a snapshot at the start of a new segment; deletes the older ones.
   */
  private void compact() {
    long segment = log.roll();
    List<TakenFile> all = filesFrom(Long.MIN_VALUE);
    byte[] snapshot = LedgerCodec.encode(new Snapshot(next, committed, all));
    log.appendAndSync(snapshot);
    List<Long> deleted = log.deleteSegmentsBefore(segment);
    LOG.debug(
        "file stream {}: compacted the ledger {} into a {}-byte snapshot of {} files in segment {};"
            + " deleted segments {}",
        stream,
        log.directory(),
        snapshot.length,
        all.size(),
        segment,
        deleted);
    snapshotBytes = snapshot.length;
    bytesSinceSnapshot = 0;
  }
}
