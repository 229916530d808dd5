package io.sluice.offsets.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An offset store in a directory: {@code offsets.log}, an append-only log of checksummed entries,
 * one per commit, forced to disk before a commit returns.
 *
 * <p>Layout: a 20-byte header (magic {@code SLCOFLOG}, int format version, long generation), then
 * entries {@code [int marker][int length][int CRC32C of length and payload][JSON payload]}. An
 * entry is written in one append after the previous valid end, so a crash leaves at most one torn
 * entry at the tail, which opening detects, logs and drops. A bad entry followed by a valid one is
 * damage in the middle and is refused. A commit entry carries its committer's {@code
 * historyRetention} ({@code keep}), and applying it, on commit or when the log is read, drops the
 * group's batches beyond it, so every reader sees the history the committer kept. When the log
 * holds far more entries than the retained history, it is rewritten (snapshot of positions plus
 * retained history) to a temp file and atomically renamed; the new generation tells other processes
 * to reload.
 *
 * <p>Writers serialise on a per-directory lock inside the JVM and on a {@link FileLock} of {@code
 * offsets.lock} across processes; every operation first reads what other writers appended.
 */
public final class FileOffsetStore extends AbstractOffsetStore {

  private static final Logger LOG = LoggerFactory.getLogger(FileOffsetStore.class);

  static final String LOG_FILE = "offsets.log";
  static final String LOCK_FILE = "offsets.lock";
  static final byte[] MAGIC = {'S', 'L', 'C', 'O', 'F', 'L', 'O', 'G'};
  static final int HEADER_SIZE = 20;
  static final int ENTRY_MARKER = 0x534C4345;
  static final int ENTRY_HEADER_SIZE = 12;
  static final int MAX_ENTRY_SIZE = 64 * 1024 * 1024;
  private static final int MIN_COMPACTION_ENTRIES = 1024;

  private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private final Path dir;
  private final Path logFile;
  private final Path lockFile;
  private final int historyRetention;
  private final CommitHook hook;
  private final ReentrantLock jvmLock;
  private final boolean readOnly;

  // Guarded by jvmLock: the log as last read.
  private final Map<String, GroupState> groups = new TreeMap<>();
  private long generation;
  private long validEnd = -1;
  private long entriesInFile;
  private long warnedTornAt = -1;

  /**
   * Opens or creates the store in {@code dir}, creating the directory and the log if absent.
   *
   * @throws OffsetStoreException when the directory cannot be used or the log is damaged
   */
  public FileOffsetStore(Path dir, int historyRetention, Clock clock, CommitHook hook) {
    this(dir, historyRetention, clock, hook, false);
  }

  /**
   * Opens the store in {@code dir} for reading only: creates no directory and no file (an existing
   * directory without a log reads as empty), reads under a shared lock, and refuses commits and
   * resets. For tools that only look ({@code sluice offsets list|history|export}).
   *
   * @throws OffsetStoreException when {@code dir} does not exist or is not a directory, or the log
   *     is damaged
   */
  public static FileOffsetStore openReadOnly(Path dir, Clock clock) {
    // The retention is the committers' (recorded in each entry); a read-only store commits nothing.
    return new FileOffsetStore(dir, Integer.MAX_VALUE, clock, CommitHook.NONE, true);
  }

  private FileOffsetStore(
      Path dir, int historyRetention, Clock clock, CommitHook hook, boolean readOnly) {
    super(clock);
    this.historyRetention = historyRetention;
    this.hook = hook;
    this.readOnly = readOnly;
    if (readOnly && !Files.isDirectory(dir)) {
      throw new OffsetStoreException(
          "the offsets directory "
              + dir
              + (Files.exists(dir) ? " is not a directory" : " does not exist"));
    }
    try {
      if (!readOnly) {
        Files.createDirectories(dir);
      }
      this.dir = dir.toRealPath();
    } catch (IOException e) {
      throw new OffsetStoreException(
          "cannot " + (readOnly ? "open" : "create") + " the offsets directory " + dir + ": " + e,
          e);
    }
    this.logFile = this.dir.resolve(LOG_FILE);
    this.lockFile = this.dir.resolve(LOCK_FILE);
    this.jvmLock = JVM_LOCKS.computeIfAbsent(this.dir, d -> new ReentrantLock());
    locked(false, () -> null);
  }

  @Override
  public String describe() {
    return "file(" + dir + ")";
  }

  @Override
  public Map<TopicPartition, Long> committed(String group) {
    checkGroup(group);
    ensureOpen();
    return locked(
        false,
        () -> {
          GroupState g = groups.get(group);
          return g == null ? Map.of() : Map.copyOf(g.positions);
        });
  }

  @Override
  public OptionalLong lastBatchId(String group) {
    checkGroup(group);
    ensureOpen();
    return locked(
        false,
        () -> {
          GroupState g = groups.get(group);
          return g == null || g.lastBatchId < 0
              ? OptionalLong.empty()
              : OptionalLong.of(g.lastBatchId);
        });
  }

  @Override
  public List<BatchCommit> history(String group, int limit) {
    checkGroup(group);
    checkLimit(limit);
    ensureOpen();
    return locked(
        false,
        () -> {
          GroupState g = groups.get(group);
          List<BatchCommit> result = new ArrayList<>();
          if (g != null) {
            Iterator<BatchCommit> newestFirst = g.history.descendingIterator();
            while (newestFirst.hasNext() && result.size() < limit) {
              result.add(newestFirst.next());
            }
          }
          return result;
        });
  }

  @Override
  public Optional<BatchCommit> batch(String group, long batchId) {
    return history(group, Integer.MAX_VALUE).stream()
        .filter(c -> c.batchId() == batchId)
        .findFirst();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Under both locks, {@link #locked} first reads what other writers appended (another process,
   * such as {@code sluice offsets reset}, or another store instance), so the checks see the log as
   * it is on disk, not as this store last read it.
   */
  @Override
  protected void doCommit(BatchCommit commit, boolean fenceOffsets) {
    if (readOnly) {
      throw new OffsetStoreException(
          describe()
              + " was opened read-only: cannot commit batch "
              + commit.batchId()
              + " of group '"
              + commit.group()
              + "'");
    }
    locked(
        true,
        () -> {
          GroupState g = groups.get(commit.group());
          // Offsets first: they say what moved the group (a reset, another driver), batch ids only
          // that something did.
          if (fenceOffsets) {
            checkOffsets(commit, g == null ? Map.of() : g.positions);
          }
          if (g != null && g.lastBatchId >= commit.batchId()) {
            throw new StaleBatchException(commit.group(), commit.batchId(), g.lastBatchId);
          }
          ObjectNode payload = CommitCodec.toJson(commit);
          payload.put("type", "commit");
          payload.put("keep", historyRetention);
          append(commit, encode(payload));
          apply(commit, historyRetention);
          entriesInFile++;
          compactIfLarge();
          return null;
        });
  }

  @Override
  protected void doClose() {
    // Nothing is held between operations.
  }

  // ---- locking and refreshing

  private <T> T locked(boolean write, Supplier<T> action) {
    jvmLock.lock();
    try {
      if (readOnly && !Files.exists(lockFile)) {
        // No writer ever opened the directory; a read-only store must not create the lock file.
        refresh(false);
        return action.get();
      }
      try (FileChannel lockChannel =
          readOnly
              ? FileChannel.open(lockFile, StandardOpenOption.READ)
              : FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        // Shared for a read-only store: it only needs writers out while it reads.
        FileLock fileLock = lockChannel.lock(0, Long.MAX_VALUE, readOnly);
        try {
          refresh(write);
          return action.get();
        } finally {
          fileLock.release();
        }
      }
    } catch (IOException e) {
      throw new OffsetStoreException(describe() + ": I/O error: " + e, e);
    } finally {
      jvmLock.unlock();
    }
  }

  private void refresh(boolean write) throws IOException {
    if (!Files.exists(logFile)) {
      if (readOnly) {
        resetState(0);
        validEnd = -1;
        return;
      }
      createLog();
      resetState(readHeader());
      validEnd = HEADER_SIZE;
      return;
    }
    try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.READ)) {
      long size = ch.size();
      long fileGeneration = readHeader(ch);
      if (fileGeneration != generation || size < validEnd || validEnd < 0) {
        resetState(fileGeneration);
        validEnd = HEADER_SIZE;
      }
      if (size > validEnd) {
        readEntries(ch, size);
      }
    }
    if (write) {
      truncateTail();
    }
  }

  private void resetState(long fileGeneration) {
    groups.clear();
    entriesInFile = 0;
    generation = fileGeneration;
  }

  private long readHeader() throws IOException {
    try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.READ)) {
      return readHeader(ch);
    }
  }

  private long readHeader(FileChannel ch) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
    readFully(ch, header, 0);
    header.flip();
    byte[] magic = new byte[MAGIC.length];
    if (header.remaining() < HEADER_SIZE) {
      throw new OffsetStoreException(
          logFile
              + " is not a Sluice offsets log: it is shorter than its "
              + HEADER_SIZE
              + "-byte header");
    }
    header.get(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new OffsetStoreException(
          logFile + " is not a Sluice offsets log: bad magic at offset 0");
    }
    int version = header.getInt();
    if (version > CommitCodec.FORMAT_VERSION) {
      throw new OffsetStoreException(
          logFile
              + " has offsets log format version "
              + version
              + ", this Sluice reads up to version "
              + CommitCodec.FORMAT_VERSION
              + ": upgrade Sluice to read it");
    }
    return header.getLong();
  }

  private void createLog() throws IOException {
    Path tmp = dir.resolve(LOG_FILE + ".tmp");
    ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
    header
        .put(MAGIC)
        .putInt(CommitCodec.FORMAT_VERSION)
        .putLong(ThreadLocalRandom.current().nextLong())
        .flip();
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      while (header.hasRemaining()) {
        ch.write(header);
      }
      ch.force(true);
    }
    moveAtomically(tmp, logFile);
  }

  private void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Some platforms cannot open a directory; the rename is still atomic there.
      LOG.debug("cannot fsync directory {}: {}", dir, e.toString());
    }
  }

  /** Reads entries from {@link #validEnd} to {@code size}, applying each valid one. */
  private void readEntries(FileChannel ch, long size) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, size - validEnd));
    readFully(ch, buf, validEnd);
    buf.flip();
    long base = validEnd;
    int pos = 0;
    while (pos < buf.limit()) {
      int length = validEntryLength(buf, pos);
      if (length < 0) {
        int next = findValidEntry(buf, pos + 1);
        if (next >= 0) {
          throw new OffsetStoreException(
              "offsets log "
                  + logFile
                  + " is corrupt at byte offset "
                  + (base + pos)
                  + " (a valid entry follows at byte offset "
                  + (base + next)
                  + "): the damage is in the middle of the"
                  + " log, not a torn last write; restore the file from a backup or move it away to start empty");
        }
        if (warnedTornAt != base + pos) {
          warnedTornAt = base + pos;
          LOG.warn(
              "Ignoring a torn or corrupt last entry in {} at byte offset {} ({} bytes): a commit was"
                  + " interrupted; earlier entries are intact",
              logFile,
              base + pos,
              buf.limit() - pos);
        }
        break;
      }
      byte[] payload = new byte[length];
      buf.get(pos + ENTRY_HEADER_SIZE, payload);
      applyPayload(payload, base + pos);
      pos += ENTRY_HEADER_SIZE + length;
      validEnd = base + pos;
      entriesInFile++;
    }
  }

  /** The payload length of a complete, checksum-valid entry at {@code pos}, or -1. */
  private static int validEntryLength(ByteBuffer buf, int pos) {
    if (buf.limit() - pos < ENTRY_HEADER_SIZE || buf.getInt(pos) != ENTRY_MARKER) {
      return -1;
    }
    int length = buf.getInt(pos + 4);
    if (length <= 0 || length > MAX_ENTRY_SIZE || length > buf.limit() - pos - ENTRY_HEADER_SIZE) {
      return -1;
    }
    CRC32C crc = new CRC32C();
    crc.update(buf.slice(pos + 4, 4));
    crc.update(buf.slice(pos + ENTRY_HEADER_SIZE, length));
    return (int) crc.getValue() == buf.getInt(pos + 8) ? length : -1;
  }

  private static int findValidEntry(ByteBuffer buf, int from) {
    for (int p = from; p <= buf.limit() - ENTRY_HEADER_SIZE; p++) {
      if (buf.getInt(p) == ENTRY_MARKER && validEntryLength(buf, p) > 0) {
        return p;
      }
    }
    return -1;
  }

  private void applyPayload(byte[] payload, long offset) {
    String where = "offsets log " + logFile + " entry at byte offset " + offset;
    JsonNode node;
    try {
      node = CommitCodec.MAPPER.readTree(payload);
    } catch (IOException e) {
      throw new OffsetStoreException(
          where + " holds malformed JSON despite a valid checksum: " + e.getMessage(), e);
    }
    try {
      String type = node.path("type").asText("commit");
      if ("snapshot".equals(type)) {
        applySnapshot(node, where);
      } else if ("commit".equals(type)) {
        // The committer's retention, not this reader's: every reader sees the history it kept.
        apply(CommitCodec.fromJson(node, where), node.path("keep").asInt(Integer.MAX_VALUE));
      } else {
        throw new OffsetStoreException(
            where + " has unknown entry type '" + type + "': written by a newer Sluice?");
      }
    } catch (IllegalArgumentException e) {
      throw new OffsetStoreException(e.getMessage(), e);
    }
  }

  /** Applies a commit, keeping the newest {@code keep} batches of its group's history. */
  private void apply(BatchCommit commit, int keep) {
    GroupState g = groups.computeIfAbsent(commit.group(), k -> new GroupState());
    for (OffsetRange r : commit.ranges()) {
      g.positions.put(r.topicPartition(), r.untilOffset());
    }
    g.lastBatchId = Math.max(g.lastBatchId, commit.batchId());
    g.history.addLast(commit);
    while (g.history.size() > keep) {
      g.history.removeFirst();
    }
  }

  private void applySnapshot(JsonNode node, String where) {
    int version = node.path("v").asInt(-1);
    if (version > CommitCodec.FORMAT_VERSION) {
      throw new OffsetStoreException(
          where
              + " holds offsets format version "
              + version
              + ", this Sluice reads up to version "
              + CommitCodec.FORMAT_VERSION
              + ": upgrade Sluice to read it");
    }
    GroupState g = groups.computeIfAbsent(node.path("group").asText(), k -> new GroupState());
    g.positions.clear();
    for (JsonNode p : node.path("positions")) {
      g.positions.put(
          new TopicPartition(p.path("topic").asText(), p.path("partition").asInt()),
          p.path("offset").asLong());
    }
    g.lastBatchId = Math.max(g.lastBatchId, node.path("lastBatchId").asLong(-1));
  }

  // ---- writing

  private static byte[] encode(ObjectNode payload) {
    byte[] json;
    try {
      json = CommitCodec.MAPPER.writeValueAsBytes(payload);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteBuffer entry = ByteBuffer.allocate(ENTRY_HEADER_SIZE + json.length);
    entry.putInt(ENTRY_MARKER).putInt(json.length);
    CRC32C crc = new CRC32C();
    crc.update(entry.array(), 4, 4);
    crc.update(json);
    entry.putInt((int) crc.getValue()).put(json);
    return entry.array();
  }

  private void append(BatchCommit commit, byte[] entry) {
    try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.WRITE)) {
      try {
        int half = entry.length / 2;
        writeFully(ch, ByteBuffer.wrap(entry, 0, half), validEnd);
        hook.midway(commit);
        writeFully(ch, ByteBuffer.wrap(entry, half, entry.length - half), validEnd + half);
        ch.force(true);
      } catch (Exception e) {
        // Leave the log as it was, so that the next append does not follow a torn entry.
        ch.truncate(validEnd);
        ch.force(true);
        throw e;
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (Exception e) {
      throw new OffsetStoreException(
          describe()
              + ": commit of batch "
              + commit.batchId()
              + " for group '"
              + commit.group()
              + "' failed, nothing was written: "
              + e,
          e);
    }
    validEnd += entry.length;
  }

  private void truncateTail() throws IOException {
    try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.WRITE)) {
      if (ch.size() > validEnd) {
        ch.truncate(validEnd);
        ch.force(true);
      }
    }
  }

  private void compactIfLarge() {
    long retained = groups.values().stream().mapToLong(g -> g.history.size() + 1L).sum();
    if (entriesInFile <= Math.max(MIN_COMPACTION_ENTRIES, 2 * retained)) {
      return;
    }
    try {
      compact();
    } catch (IOException e) {
      // The appended commit is durable already; a failed rewrite only leaves the log long.
      LOG.warn("Could not compact {}: {}", logFile, e.toString());
    }
  }

  private void compact() throws IOException {
    Path tmp = dir.resolve(LOG_FILE + ".compact");
    long newGeneration = ThreadLocalRandom.current().nextLong();
    long count = 0;
    long end;
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
      header.put(MAGIC).putInt(CommitCodec.FORMAT_VERSION).putLong(newGeneration).flip();
      long pos = writeFully(ch, header, 0);
      for (Map.Entry<String, GroupState> e : groups.entrySet()) {
        for (BatchCommit c : e.getValue().history) {
          ObjectNode payload = CommitCodec.toJson(c);
          payload.put("type", "commit");
          pos += writeFully(ch, ByteBuffer.wrap(encode(payload)), pos);
          count++;
        }
        // Written after the history so that it wins over the positions the history replays.
        pos += writeFully(ch, ByteBuffer.wrap(encode(snapshot(e.getKey(), e.getValue()))), pos);
        count++;
      }
      ch.force(true);
      end = pos;
    }
    moveAtomically(tmp, logFile);
    generation = newGeneration;
    validEnd = end;
    entriesInFile = count;
  }

  private static ObjectNode snapshot(String group, GroupState g) {
    ObjectNode node = CommitCodec.MAPPER.createObjectNode();
    node.put("v", CommitCodec.FORMAT_VERSION)
        .put("type", "snapshot")
        .put("group", group)
        .put("lastBatchId", g.lastBatchId);
    ArrayNode positions = node.putArray("positions");
    g.positions.forEach(
        (tp, offset) ->
            positions
                .addObject()
                .put("topic", tp.topic())
                .put("partition", tp.partition())
                .put("offset", offset));
    return node;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long p = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, p);
      if (n < 0) {
        return;
      }
      p += n;
    }
  }

  private static long writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long p = position;
    while (buf.hasRemaining()) {
      p += ch.write(buf, p);
    }
    return p - position;
  }

  /** One group's state as replayed from the log. */
  private static final class GroupState {
    final Map<TopicPartition, Long> positions = new LinkedHashMap<>();
    final Deque<BatchCommit> history = new ArrayDeque<>();
    long lastBatchId = -1;
  }

  /** For tests: the log file path. */
  public Path logFile() {
    return logFile;
  }
}
