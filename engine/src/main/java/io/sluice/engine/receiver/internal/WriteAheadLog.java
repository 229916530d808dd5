package io.sluice.engine.receiver.internal;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.Clock;
import io.sluice.engine.internal.DurableFiles;
import io.sluice.engine.internal.EngineThreads;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checksummed, segmented write-ahead log: records appended to segment files in one directory,
 * each addressed by a {@link WalPointer}, read back with every checksum verified. The format is in
 * {@link WalFormat}.
 *
 * <p><b>Durability.</b> {@link #append} hands a record to the operating system; it survives a crash
 * of the process but not of the machine until a sync. {@link #appendAndSync} returns once the
 * record is on disk (one fsync per call, shared by callers syncing at the same time: group commit).
 * {@link #appendAsync} returns at once with a future completed when the record is on disk; the
 * background syncer forces the log at most once per {@link WalSettings#syncInterval()}, so the
 * records of an interval share one fsync.
 *
 * <p><b>Threads.</b> Internally synchronized: any number of threads may append, sync, read and
 * iterate at once. Appends are serialized by one lock and written in the order they took it; an
 * fsync runs outside it, so appends continue while the disk syncs. Writes use {@link
 * RandomAccessFile}, which an interrupt does not close: a receiver thread interrupted during an
 * append cannot break the log for the others. One thread, {@code sluice-wal-sync-<name>}, runs the
 * background syncer when the interval is positive.
 *
 * <p><b>Recovery</b> ({@link #open}): every segment header is checked and a newer format refused.
 * The newest segment, if a crash left it unsealed, is read through: a torn last record (incomplete
 * header or payload, a last payload failing its checksum, a zero-filled tail) is cut with a WARN
 * naming file and byte offset; damage with readable bytes after it is refused naming file and
 * offset, never skipped. Then the log continues in a new segment. Segment ids only increase: the
 * segment being written is never deleted, so an id is never reused.
 *
 * <p><b>Failure.</b> A failed write or fsync fails the log for good (after a failed fsync the page
 * cache can no longer be trusted): pending futures complete exceptionally and later appends throw
 * {@link IllegalStateException}; reopening recovers what reached the disk.
 */
public final class WriteAheadLog implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
  private static final int SINGLE_WRITE = 8 << 10;

  private final String name;
  private final Path dir;
  private final WalSettings settings;
  private final Clock clock;
  private final Thread syncer;

  /** Lock order: syncLock, then appendLock, then durableLock. */
  private final Object syncLock = new Object();

  private final Object appendLock = new Object();
  private final Object durableLock = new Object();

  /** Closed segments on disk, by id. Concurrent: read without the append lock. */
  private final ConcurrentSkipListMap<Long, Path> sealed = new ConcurrentSkipListMap<>();

  // Guarded by appendLock.
  private Segment active;
  private final List<Segment> retired = new ArrayList<>();
  private volatile long appendedSeq;

  // Guarded by durableLock.
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private volatile long durableSeq;
  private final AtomicLong syncs = new AtomicLong();

  private volatile Throwable failure;
  private volatile boolean closing;
  private boolean closed;

  private WriteAheadLog(String name, Path dir, WalSettings settings, Clock clock) {
    this.name = name;
    this.dir = dir;
    this.settings = settings;
    this.clock = clock;
    this.syncer =
        settings.syncInterval().isZero()
            ? null
            : EngineThreads.newThread("sluice-wal-sync-" + name, true, this::runSyncer);
  }

  /**
   * Opens the log in {@code dir} (created if missing), recovers it as the class comment says, and
   * starts a new segment for appends. Blocks on file I/O.
   *
   * @param name names the syncer thread and log messages, e.g. the receiver stream's name
   * @throws CheckpointException when a segment is corrupt before its end or has a newer format
   */
  public static WriteAheadLog open(String name, Path dir, WalSettings settings, Clock clock) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(clock, "clock");
    WriteAheadLog log = new WriteAheadLog(name, dir, settings, clock);
    log.recover();
    if (log.syncer != null) {
      log.syncer.start();
    }
    return log;
  }

  /** The directory holding the segments. */
  public Path directory() {
    return dir;
  }

  /**
   * Appends {@code payload} after every record appended before; not yet durable (see {@link
   * #sync()}). Rolls the segment first when the record would take it past {@link
   * WalSettings#segmentBytes()} or it is older than {@link WalSettings#segmentAge()}. Thread-safe;
   * blocks on the write (and, when rolling, on the old segment's fsync).
   *
   * @throws IllegalStateException when the log is closed or failed
   * @throws UncheckedIOException when the write fails (the log is then failed)
   */
  public WalPointer append(byte[] payload) {
    return appendRecord(payload, null).pointer;
  }

  /**
   * Appends {@code payload} and returns once it is on disk. Callers syncing at the same time share
   * one fsync. Thread-safe; blocks on the write and the fsync.
   *
   * @throws IllegalStateException when the log is closed or failed
   * @throws UncheckedIOException when the write or the fsync fails (the log is then failed)
   */
  public WalPointer appendAndSync(byte[] payload) {
    Appended a = appendRecord(payload, null);
    syncUpTo(a.seq);
    return a.pointer;
  }

  /**
   * Appends {@code payload} and returns a future completed with its pointer once it is on disk: by
   * the background syncer within about one {@link WalSettings#syncInterval()}, or by any earlier
   * {@link #sync()}. The future completes on the syncing thread, so its dependent stages must not
   * block; it completes exceptionally when the log fails. Thread-safe; blocks on the write only.
   *
   * @throws IllegalStateException when the log is closed or failed
   */
  public CompletableFuture<WalPointer> appendAsync(byte[] payload) {
    CompletableFuture<WalPointer> durable = new CompletableFuture<>();
    appendRecord(payload, durable);
    return durable;
  }

  /**
   * Forces every record appended before the call to disk. Thread-safe; blocks on the fsync, or on
   * another thread's fsync that covers the same records.
   *
   * @throws IllegalStateException when the log is closed or failed
   * @throws UncheckedIOException when the fsync fails (the log is then failed)
   */
  public void sync() {
    syncUpTo(appendedSeq);
  }

  /**
   * Closes the segment being written (when it holds a record) and starts a new one; the next append
   * goes there. Thread-safe; blocks on the old segment's fsync.
   *
   * @return the id of the segment the next append goes to
   */
  public long roll() {
    List<Pending> durable = List.of();
    long next;
    synchronized (appendLock) {
      checkUsable();
      if (active.records > 0) {
        durable = rollLocked();
      }
      next = active.id;
    }
    complete(durable);
    return next;
  }

  /**
   * Reads the record at {@code pointer}, verifying both checksums. Thread-safe, also during
   * appends; blocks on file I/O.
   *
   * @throws CheckpointException when the bytes there fail a checksum or are not the record the
   *     pointer describes; the message names the file and the byte offset
   * @throws IllegalArgumentException when the segment does not exist (deleted, or never written)
   */
  public byte[] read(WalPointer pointer) {
    Path file = segmentFile(pointer.segment());
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      byte[] header = new byte[WalFormat.RECORD_HEADER_LENGTH];
      raf.seek(pointer.offset());
      raf.readFully(header);
      ByteBuffer h = ByteBuffer.wrap(header);
      if (!WalFormat.recordHeaderValid(header)) {
        throw damaged(file, pointer.offset(), "record header checksum (CRC32C) mismatch");
      }
      if (h.getInt(0) != pointer.length()) {
        throw damaged(
            file,
            pointer.offset(),
            "the record there has " + h.getInt(0) + " bytes, the pointer says " + pointer.length());
      }
      byte[] payload = new byte[pointer.length()];
      raf.readFully(payload);
      if (WalFormat.crc(payload, 0, payload.length) != h.getInt(4)) {
        throw damaged(file, pointer.offset(), "payload checksum (CRC32C) mismatch");
      }
      return payload;
    } catch (EOFException e) {
      throw damaged(file, pointer.offset(), "the file ends inside the record " + pointer);
    } catch (FileNotFoundException | NoSuchFileException e) {
      throw new IllegalArgumentException(
          "write-ahead log segment " + file + " does not exist (deleted?); cannot read " + pointer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + pointer + " from " + file, e);
    }
  }

  /**
   * Iterates every record appended before the call, oldest segment first, verifying every checksum;
   * the means of recovery. Close the iterator when done. Safe during appends (it reads what was
   * appended when called); a segment deleted while being iterated ends the iteration with an
   * exception. The iterator itself is not thread-safe.
   */
  public WalIterator iterate() {
    List<WalIterator.Source> sources = new ArrayList<>();
    synchronized (appendLock) {
      for (Map.Entry<Long, Path> e : sealed.entrySet()) {
        sources.add(new WalIterator.Source(e.getKey(), e.getValue(), -1, true));
      }
      if (active != null) {
        sources.add(new WalIterator.Source(active.id, active.file, active.size, false));
      }
    }
    return new WalIterator(sources);
  }

  /**
   * Deletes every closed segment with an id below {@code segment}: the caller says every record in
   * them is no longer needed. Never deletes the segment being written. Thread-safe; blocks on file
   * I/O.
   *
   * @return the ids deleted, ascending
   */
  public List<Long> deleteSegmentsBefore(long segment) {
    List<Long> deleted = new ArrayList<>();
    NavigableMap<Long, Path> doomed = sealed.headMap(segment, false);
    for (Map.Entry<Long, Path> e : doomed.entrySet()) {
      try {
        Files.deleteIfExists(e.getValue());
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot delete write-ahead log segment " + e.getValue(), ex);
      }
      sealed.remove(e.getKey());
      deleted.add(e.getKey());
    }
    if (!deleted.isEmpty()) {
      DurableFiles.forceDirectory(dir);
      LOG.debug("Deleted write-ahead log segments {} of {}", deleted, dir);
    }
    return deleted;
  }

  /** The segment ids on disk, ascending, the one being written last. Thread-safe. */
  public List<Long> segments() {
    synchronized (appendLock) {
      List<Long> ids = new ArrayList<>(sealed.keySet());
      if (active != null) {
        ids.add(active.id);
      }
      return ids;
    }
  }

  /** The id of the segment appends go to now. Thread-safe. */
  public long activeSegment() {
    synchronized (appendLock) {
      checkUsable();
      return active.id;
    }
  }

  /** How many fsyncs of records this log has made since it was opened; for metrics and tests. */
  public long syncCount() {
    return syncs.get();
  }

  /**
   * Stops the syncer, seals and forces the segment being written, completes every pending future,
   * and closes the files. Idempotent; blocks up to about ten seconds for the syncer to stop, then
   * on the fsync. Appends after close throw.
   */
  @Override
  public void close() {
    synchronized (syncLock) {
      if (closed) {
        return;
      }
      closed = true;
      closing = true;
      if (syncer != null) {
        syncer.interrupt();
      }
    }
    if (syncer != null && syncer != Thread.currentThread()) {
      try {
        syncer.join(CLOSE_WAIT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Pending> durable = List.of();
    synchronized (syncLock) {
      synchronized (appendLock) {
        try {
          if (failure == null) {
            sealAndForce(active);
            syncs.incrementAndGet();
            durable = advanceDurable(appendedSeq);
          }
        } catch (IOException e) {
          fail(active.file, e);
        } finally {
          closeAll();
        }
      }
    }
    complete(durable);
    failPending(new IllegalStateException("write-ahead log " + dir + " closed"));
  }

  @Override
  public String toString() {
    return "WriteAheadLog[" + name + ", " + dir + "]";
  }

  // --- appending -------------------------------------------------------------------------------

  private record Appended(WalPointer pointer, long seq) {}

  private record Pending(long seq, WalPointer pointer, CompletableFuture<WalPointer> future) {}

  private Appended appendRecord(byte[] payload, CompletableFuture<WalPointer> durable) {
    Objects.requireNonNull(payload, "payload");
    if (payload.length > WalFormat.MAX_PAYLOAD) {
      throw new IllegalArgumentException(
          "a write-ahead log record must be <= "
              + WalFormat.MAX_PAYLOAD
              + " bytes, was "
              + payload.length);
    }
    byte[] header = WalFormat.recordHeader(payload, payload.length);
    long recordBytes = (long) header.length + payload.length;
    // Small records go in one write call; large ones are not copied.
    byte[] record = null;
    if (payload.length <= SINGLE_WRITE) {
      record = new byte[(int) recordBytes];
      System.arraycopy(header, 0, record, 0, header.length);
      System.arraycopy(payload, 0, record, header.length, payload.length);
    }
    List<Pending> rolledDurable = List.of();
    Appended appended;
    synchronized (appendLock) {
      checkUsable();
      Segment seg = active;
      if (seg.records > 0 && (tooBig(seg, recordBytes) || tooOld(seg))) {
        rolledDurable = rollLocked();
        seg = active;
      }
      WalPointer pointer = new WalPointer(seg.id, seg.size, payload.length);
      try {
        if (record != null) {
          seg.raf.write(record);
        } else {
          seg.raf.write(header);
          seg.raf.write(payload);
        }
      } catch (IOException e) {
        throw fail(seg.file, e);
      }
      if (seg.records == 0) {
        seg.firstRecordAt = clock.now();
      }
      seg.size += recordBytes;
      seg.records++;
      long seq = ++appendedSeq;
      if (durable != null) {
        synchronized (durableLock) {
          pending.add(new Pending(seq, pointer, durable));
          if (pending.size() == 1) {
            durableLock.notifyAll();
          }
        }
      }
      appended = new Appended(pointer, seq);
    }
    // Completed outside the append lock: a dependent stage may append or sync again.
    complete(rolledDurable);
    return appended;
  }

  private boolean tooBig(Segment seg, long recordBytes) {
    return seg.size + recordBytes + WalFormat.RECORD_HEADER_LENGTH > settings.segmentBytes();
  }

  private boolean tooOld(Segment seg) {
    return !clock.now().isBefore(seg.firstRecordAt.plus(settings.segmentAge()));
  }

  /**
   * Seals, forces and retires the active segment, then opens the next. Holds appendLock; returns
   * the appends it made durable, for the caller to complete once it released the lock.
   */
  private List<Pending> rollLocked() {
    Segment old = active;
    try {
      sealAndForce(old);
    } catch (IOException e) {
      throw fail(old.file, e);
    }
    syncs.incrementAndGet();
    long lastSeq = appendedSeq;
    sealed.put(old.id, old.file);
    retired.add(old);
    try {
      active = createSegment(old.id + 1);
    } catch (UncheckedIOException e) {
      throw fail(old.file.resolveSibling(WalFormat.fileName(old.id + 1)), e.getCause());
    }
    return advanceDurable(lastSeq);
  }

  private static void sealAndForce(Segment seg) throws IOException {
    seg.raf.write(WalFormat.seal(seg.records));
    seg.size += WalFormat.RECORD_HEADER_LENGTH;
    seg.raf.getFD().sync();
  }

  // --- syncing ---------------------------------------------------------------------------------

  private void syncUpTo(long seq) {
    if (durableSeq >= seq) {
      return;
    }
    synchronized (syncLock) {
      if (durableSeq >= seq) {
        return;
      }
      Segment seg;
      long target;
      List<Segment> done;
      synchronized (appendLock) {
        checkUsable();
        seg = active;
        target = appendedSeq;
        done = new ArrayList<>(retired);
        retired.clear();
      }
      // Closed here, not at the roll: no sync can be using them while this one holds syncLock.
      done.forEach(WriteAheadLog::closeQuietly);
      try {
        seg.raf.getFD().sync();
      } catch (IOException e) {
        throw fail(seg.file, e);
      }
      syncs.incrementAndGet();
      complete(advanceDurable(target));
    }
  }

  /** Records that appends up to {@code target} are on disk; returns their pending futures. */
  private List<Pending> advanceDurable(long target) {
    List<Pending> done = new ArrayList<>();
    synchronized (durableLock) {
      if (target > durableSeq) {
        durableSeq = target;
        while (!pending.isEmpty() && pending.peek().seq <= target) {
          done.add(pending.poll());
        }
      }
    }
    return done;
  }

  private static void complete(List<Pending> durable) {
    for (Pending p : durable) {
      p.future.complete(p.pointer);
    }
  }

  private void runSyncer() {
    Instant lastSync = null;
    try {
      while (true) {
        synchronized (durableLock) {
          while (!closing && pending.isEmpty()) {
            durableLock.wait();
          }
        }
        if (closing) {
          return;
        }
        if (lastSync != null) {
          clock.waitUntil(lastSync.plus(settings.syncInterval()));
        }
        lastSync = clock.now();
        syncUpTo(appendedSeq);
      }
    } catch (InterruptedException e) {
      // close() stops the syncer; it syncs what is left itself
    } catch (RuntimeException e) {
      if (!closing) {
        LOG.error("Write-ahead log syncer of {} stopped: the log has failed", dir, e);
      }
    }
  }

  // --- failure ---------------------------------------------------------------------------------

  private void checkUsable() {
    if (closing) {
      throw new IllegalStateException("write-ahead log " + dir + " is closed");
    }
    if (failure != null) {
      throw new IllegalStateException(
          "write-ahead log "
              + dir
              + " failed earlier and accepts no more appends; reopen it to recover what reached"
              + " the disk",
          failure);
    }
  }

  private UncheckedIOException fail(Path file, IOException e) {
    UncheckedIOException failed =
        new UncheckedIOException("write-ahead log segment " + file + " cannot be written", e);
    if (failure == null) {
      failure = failed;
      LOG.error("Write-ahead log {} failed; pending appends fail with it", dir, e);
    }
    failPending(failed);
    return failed;
  }

  private void failPending(Throwable cause) {
    List<Pending> failed;
    synchronized (durableLock) {
      failed = new ArrayList<>(pending);
      pending.clear();
      durableLock.notifyAll();
    }
    for (Pending p : failed) {
      p.future.completeExceptionally(cause);
    }
  }

  private static CheckpointException damaged(Path file, long offset, String problem) {
    return new DamagedSegmentException(file, offset, problem, false).refusal();
  }

  // --- segments --------------------------------------------------------------------------------

  /** The segment being written: its file open for appends, and its position. */
  private static final class Segment {
    final long id;
    final Path file;
    final RandomAccessFile raf;
    Instant firstRecordAt;
    long size;
    int records;

    Segment(long id, Path file, RandomAccessFile raf, long size) {
      this.id = id;
      this.file = file;
      this.raf = raf;
      this.size = size;
    }
  }

  private Path segmentFile(long segment) {
    Path file = sealed.get(segment);
    if (file != null) {
      return file;
    }
    synchronized (appendLock) {
      if (active != null && active.id == segment) {
        return active.file;
      }
    }
    return dir.resolve(WalFormat.fileName(segment));
  }

  private void recover() {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create write-ahead log directory " + dir, e);
    }
    TreeMap<Long, Path> found = scan();
    for (Map.Entry<Long, Path> e : found.entrySet()) {
      checkHeader(e.getKey(), e.getValue());
    }
    if (!found.isEmpty()) {
      Map.Entry<Long, Path> newest = found.lastEntry();
      repairNewest(newest.getKey(), newest.getValue());
    }
    sealed.putAll(found);
    active = createSegment(found.isEmpty() ? 0 : found.lastKey() + 1);
  }

  private TreeMap<Long, Path> scan() {
    TreeMap<Long, Path> found = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String fileName = f.getFileName().toString();
        long id = WalFormat.segmentOf(fileName);
        if (id >= 0) {
          found.put(id, f);
        } else if (fileName.endsWith(WalFormat.TMP_SUFFIX)) {
          LOG.info("Deleting {}, a write-ahead log segment whose creation did not finish", f);
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list write-ahead log directory " + dir, e);
    }
    return found;
  }

  private static void checkHeader(long id, Path file) {
    try (SegmentReader ignored = SegmentReader.open(id, file, -1)) {
      // the header is checked on open
    } catch (DamagedSegmentException e) {
      throw e.refusal();
    }
  }

  /** Reads the newest segment through; cuts a torn tail and seals it if a crash left it open. */
  private void repairNewest(long id, Path file) {
    long cutAt;
    int records;
    try (SegmentReader reader = SegmentReader.open(id, file, -1)) {
      try {
        while (reader.next() != null) {
          // every record's checksums are verified as it is read
        }
        if (reader.sealed()) {
          return;
        }
        LOG.info("Sealing write-ahead log segment {}, left open by a crash", file);
      } catch (DamagedSegmentException e) {
        if (!e.tornCandidate()) {
          throw e.refusal();
        }
        LOG.warn(
            "Cutting a torn record at the end of write-ahead log segment {} at byte {} ({}),"
                + " left by a crash during an append; the {} records before it are intact",
            file,
            e.offset(),
            e.problem(),
            reader.records());
      }
      cutAt = reader.position();
      records = reader.records();
    } catch (DamagedSegmentException e) {
      throw e.refusal();
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(cutAt);
      raf.seek(cutAt);
      raf.write(WalFormat.seal(records));
      raf.getFD().sync();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot cut the torn tail of " + file, e);
    }
  }

  /** Creates a segment atomically (header written and forced under a temporary name). */
  private Segment createSegment(long id) {
    Path file = dir.resolve(WalFormat.fileName(id));
    Path tmp = dir.resolve(WalFormat.fileName(id) + ".tmp");
    Instant now = clock.now();
    try {
      try (RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw")) {
        raf.setLength(0);
        raf.write(WalFormat.segmentHeader(id, now.toEpochMilli()));
        raf.getFD().sync();
      }
      DurableFiles.move(tmp, file);
      DurableFiles.forceDirectory(dir);
      RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
      raf.seek(WalFormat.SEGMENT_HEADER_LENGTH);
      return new Segment(id, file, raf, WalFormat.SEGMENT_HEADER_LENGTH);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create write-ahead log segment " + file, e);
    }
  }

  private void closeAll() {
    retired.forEach(WriteAheadLog::closeQuietly);
    retired.clear();
    if (active != null) {
      closeQuietly(active);
      sealed.put(active.id, active.file);
      active = null;
    }
  }

  private static void closeQuietly(Segment seg) {
    try {
      seg.raf.close();
    } catch (IOException e) {
      LOG.debug("Closing write-ahead log segment {} failed", seg.file, e);
    }
  }
}
