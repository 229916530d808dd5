package io.sluice.engine.state.internal;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.TerminalException;
import io.sluice.engine.state.StateSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The versioned key-value state of one partition of one state operator. Reads and writes go to an
 * in-memory map; each batch's changes are persisted as one delta file, and every {@link
 * StateStoreSettings#snapshotInterval()} versions a snapshot of the whole state, in the store's
 * directory ({@code checkpointDir/state/<operator>/<partition>/}). The version is the batch id:
 * version {@code b} is the state after batch {@code b}, version -1 the empty state.
 *
 * <p>Lifecycle of a batch {@code b}: {@link #begin}{@code (b)} (from version {@code b-1}, loaded
 * from disk if the memory holds another version), {@link #put}/{@link #remove}/{@link #get}, {@link
 * #prepare}{@code (b)} (writes temporary files and forces them to disk), {@link #commit}{@code (b)}
 * (renames them into place: version {@code b} is <em>persisted</em>), then, once the engine has
 * committed the batch, {@link #committed}{@code (b)} (version {@code b} is <em>committed</em>, and
 * versions no replay needs are deleted). {@link #abort} before {@code committed(b)} returns to
 * version {@code b-1}, in time proportional to the keys the batch touched.
 *
 * <p>Recovery ({@link #recover}) trusts only the committed version the caller names: it loads the
 * newest intact snapshot at or below it plus the deltas up to it, deletes files above it (batches
 * persisted but not committed; they will be replayed), and refuses damaged or incomplete state with
 * a {@link CheckpointException} naming the file, never returning wrong state.
 *
 * <p>The cost of persisting a batch is proportional to the keys it touched; the snapshot, every
 * {@code snapshotInterval} batches, to the state's size.
 *
 * <p>Not thread-safe: one thread at a time (the task running the partition) owns the store; hand-
 * offs between threads must happen-before. {@code recover}, {@code load}, {@code begin}, {@code
 * prepare}, {@code commit}, {@code committed} and {@code abort} block on file I/O; {@code get},
 * {@code put}, {@code remove} and {@code view} do not. Keys need {@code equals}/{@code hashCode};
 * keys and values must not be mutated after {@code put} or {@code get}, since rollback and the
 * delta rely on the stored objects.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class StateStore<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);
  private static final Object ABSENT = new Object();
  private static final long NONE = Long.MIN_VALUE;

  private enum Phase {
    NEW,
    IDLE,
    OPEN,
    PREPARED,
    CLOSED
  }

  private final Path dir; // null: in memory only
  private final StateSerde<K> keySerde;
  private final StateSerde<V> valueSerde;
  private final StateStoreSettings settings;

  private Map<K, V> map = new HashMap<>();
  private NavigableSet<Long> deltas = Collections.emptyNavigableSet();
  private NavigableSet<Long> snapshots = Collections.emptyNavigableSet();
  private Phase phase = Phase.NEW;
  private long version = -1;
  private long committed = -1;
  private long batch = NONE;

  /**
   * Value of each key touched by {@link #undoBatch} before that batch: rollback and delta.
   * Replaced, never cleared: see {@link #clearUndo}.
   */
  private Map<K, Object> before = new HashMap<>();

  private long undoBatch = NONE;
  private boolean snapshotPrepared;

  private StateStore(
      Path dir, StateSerde<K> keySerde, StateSerde<V> valueSerde, StateStoreSettings settings) {
    this.dir = dir;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    this.settings = settings;
  }

  /**
   * A store over {@code dir}, created if missing. Reads nothing yet: call {@link #recover} before
   * the first batch.
   */
  public static <K, V> StateStore<K, V> open(
      Path dir, StateSerde<K> keySerde, StateSerde<V> valueSerde, StateStoreSettings settings) {
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    Objects.requireNonNull(settings, "settings");
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        if (settings.fsync()) {
          StateFiles.forceDirectory(dir.getParent());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create state directory " + dir, e);
    }
    return new StateStore<>(dir, keySerde, valueSerde, settings);
  }

  /**
   * A store that keeps its versions in memory only (a context without a checkpoint directory): the
   * same lifecycle, rollback of the open or last uncommitted batch included, but nothing survives
   * the process and no older version can be loaded.
   */
  public static <K, V> StateStore<K, V> inMemory(StateStoreSettings settings) {
    return new StateStore<>(null, null, null, Objects.requireNonNull(settings, "settings"));
  }

  /** Whether versions are written to files (false for {@link #inMemory}). */
  public boolean persistent() {
    return dir != null;
  }

  /**
   * Makes the state version {@code v} without running the batches in between: adds {@code entries}
   * to the state and persists it all as a snapshot of version {@code v}. For an operator that is
   * new while its inputs have committed batches already (its state starts at their version, maybe
   * with an initial state), and for batch ids that were never run (planned batches dropped at a
   * restart). Not committed: call {@link #committed} when the engine has.
   *
   * @throws IllegalArgumentException unless {@code v} is above the version held
   * @throws IllegalStateException unless the store is loaded and no batch is open
   */
  public void seed(long v, Map<K, V> entries) {
    requirePhase(Phase.IDLE, "seed version " + v);
    if (v <= version) {
      throw new IllegalArgumentException(
          "cannot seed state version " + v + ": the store holds version " + version);
    }
    map.putAll(entries);
    if (persistent()) {
      Path snapshot = StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, v);
      Path tmp = StateFiles.tmp(snapshot);
      try (StateFileWriter w = StateFileWriter.create(tmp, StateFileHeader.Kind.SNAPSHOT, v)) {
        for (Map.Entry<K, V> e : map.entrySet()) {
          w.entry(serializeKey(e.getKey()), serializeValue(e.getKey(), e.getValue()));
        }
        w.finish(settings.fsync());
      }
      StateFiles.move(tmp, snapshot);
      if (settings.fsync()) {
        StateFiles.forceDirectory(dir);
      }
      snapshots = mutable(snapshots);
      snapshots.add(v);
    }
    version = v;
    clearUndo();
    undoBatch = NONE;
  }

  /** The directory holding this store's files. */
  public Path directory() {
    return dir;
  }

  /**
   * Loads the state at {@code committedBatch}, the last batch the engine committed (-1 when none),
   * and makes it the committed version. Files above it belong to batches that were persisted but
   * not committed; they are deleted, and those batches are replayed from here.
   *
   * @throws CheckpointException when that version cannot be rebuilt from intact files, or a file
   *     has a newer format than this code
   * @throws IllegalStateException while a batch is open or prepared
   */
  public void recover(long committedBatch) {
    requireNotBusy("recover");
    if (committedBatch < -1) {
      throw new IllegalArgumentException("committedBatch must be >= -1, was " + committedBatch);
    }
    long previous = committed;
    committed = committedBatch;
    try {
      loadVersion(committedBatch);
    } catch (RuntimeException e) {
      committed = previous;
      throw e;
    }
  }

  /**
   * Replaces the in-memory state with version {@code v} read from disk, deleting any file above
   * {@code v}, so that batch {@code v+1} runs next. {@code v} must not be below the committed
   * version.
   *
   * @throws CheckpointException as {@link #recover}
   * @throws IllegalStateException before {@link #recover} (the committed version, below which
   *     nothing may be deleted, is unknown), or while a batch is open or prepared
   */
  public void load(long v) {
    requireLoaded();
    requireNotBusy("load");
    loadVersion(v);
  }

  private void loadVersion(long v) {
    if (v < committed) {
      throw new IllegalStateException(
          "cannot load state version " + v + " below the committed version " + committed);
    }
    if (!persistent()) {
      if (v != version) {
        throw new IllegalStateException(
            "an in-memory state store holds version " + version + " only, not " + v);
      }
      clearUndo();
      undoBatch = NONE;
      batch = NONE;
      phase = Phase.IDLE;
      return;
    }
    StateFiles.Listing listing = StateFiles.scan(dir);
    refuseNewerFormats(listing);
    map = new StateRecovery<>(dir, keySerde, valueSerde, listing).rebuild(v);
    deltas = listing.deltas();
    snapshots = listing.snapshots();
    deleteAbove(v);
    version = v;
    clearUndo();
    undoBatch = NONE;
    batch = NONE;
    phase = Phase.IDLE;
  }

  /**
   * Opens batch {@code batchId} on version {@code batchId - 1}, loading it from disk when memory
   * holds another version (a replay). Drops the rollback information of the previous batch.
   *
   * @throws IllegalStateException before {@link #recover}, while another batch is open, or when
   *     {@code batchId} is already committed
   */
  public void begin(long batchId) {
    requirePhase(Phase.IDLE, "begin batch " + batchId);
    if (batchId <= committed) {
      throw new IllegalStateException(
          "batch "
              + batchId
              + " is already committed (committed state version "
              + committed
              + "); a committed batch is never run again");
    }
    if (batchId - 1 > version) {
      throw new IllegalStateException(
          "cannot begin batch "
              + batchId
              + " on state store "
              + dir
              + ": the newest persisted version is "
              + version
              + "; batches run in order");
    }
    if (version != batchId - 1) {
      load(batchId - 1);
    }
    clearUndo();
    undoBatch = batchId;
    batch = batchId;
    phase = Phase.OPEN;
  }

  /** The value of {@code key}, or null. Allowed whenever the store is loaded. */
  public V get(K key) {
    requireLoaded();
    return map.get(key);
  }

  /** Sets {@code key} to {@code value} (neither null) in the open batch. */
  public void put(K key, V value) {
    requirePhase(Phase.OPEN, "put");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    V old = map.put(key, value);
    before.putIfAbsent(key, old == null ? ABSENT : old);
  }

  /** Removes {@code key} in the open batch; returns its value, or null when absent. */
  public V remove(K key) {
    requirePhase(Phase.OPEN, "remove");
    V old = map.remove(key);
    if (old != null) {
      before.putIfAbsent(key, old);
    }
    return old;
  }

  /**
   * What the last persisted batch changed: each key it put or removed, with its value after the
   * batch (null: removed), in the order first touched. Empty once that batch is committed, and for
   * a batch that changed nothing.
   */
  public Map<K, V> lastChanges() {
    requireLoaded();
    if (undoBatch == NONE || undoBatch != version) {
      return Map.of();
    }
    Map<K, V> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<K, Object> e : before.entrySet()) {
      V now = map.get(e.getKey());
      if (now != null || e.getValue() != ABSENT) {
        out.put(e.getKey(), now);
      }
    }
    return out;
  }

  /** Number of keys. */
  public int size() {
    requireLoaded();
    return map.size();
  }

  /**
   * A read-only live view of the whole state, for snapshots of it; valid until the next {@link
   * #load}, {@link #recover} or {@link #begin} that loads from disk.
   */
  public Map<K, V> view() {
    requireLoaded();
    return Collections.unmodifiableMap(map);
  }

  /** The version the memory holds: the last persisted or loaded one (during a batch, b-1). */
  public long version() {
    return version;
  }

  /** The committed version: the newest version no replay may change. */
  public long committedVersion() {
    return committed;
  }

  /**
   * Writes batch {@code batchId}'s delta, and the snapshot when the version is a multiple of the
   * snapshot interval, to temporary files, forced to disk when fsync is on. Nothing is visible to
   * recovery until {@link #commit}.
   *
   * @throws IllegalStateException unless {@code batchId} is the open batch
   * @throws TerminalException when a key or value cannot be serialized; the batch stays open
   */
  public PersistStats prepare(long batchId) {
    requireBatch(Phase.OPEN, batchId, "prepare");
    if (!persistent()) {
      snapshotPrepared = false;
      phase = Phase.PREPARED;
      return new PersistStats(batchId, before.size(), 0, -1, -1);
    }
    Path deltaTmp = StateFiles.tmp(StateFiles.file(dir, StateFileHeader.Kind.DELTA, batchId));
    long deltaBytes;
    long deltaEntries;
    try (StateFileWriter w =
        StateFileWriter.create(deltaTmp, StateFileHeader.Kind.DELTA, batchId)) {
      for (Map.Entry<K, Object> e : before.entrySet()) {
        K key = e.getKey();
        V now = map.get(key);
        if (now != null) {
          w.put(serializeKey(key), serializeValue(key, now));
        } else if (e.getValue() != ABSENT) {
          w.remove(serializeKey(key));
        }
      }
      deltaEntries = w.entries();
      deltaBytes = w.finish(settings.fsync());
    }
    long snapshotBytes = -1;
    snapshotPrepared = settings.isSnapshotVersion(batchId);
    if (snapshotPrepared) {
      Path snapTmp = StateFiles.tmp(StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, batchId));
      try (StateFileWriter w =
          StateFileWriter.create(snapTmp, StateFileHeader.Kind.SNAPSHOT, batchId)) {
        for (Map.Entry<K, V> e : map.entrySet()) {
          w.entry(serializeKey(e.getKey()), serializeValue(e.getKey(), e.getValue()));
        }
        snapshotBytes = w.finish(settings.fsync());
      } catch (RuntimeException e) {
        StateFiles.delete(deltaTmp);
        snapshotPrepared = false;
        throw e;
      }
    }
    phase = Phase.PREPARED;
    return new PersistStats(
        batchId, deltaEntries, deltaBytes, snapshotPrepared ? map.size() : -1, snapshotBytes);
  }

  /**
   * Renames the prepared files into place and makes the rename durable: version {@code batchId} is
   * persisted and is what memory holds. Rollback stays possible until {@link #committed} or the
   * next {@link #begin}.
   *
   * @throws IllegalStateException unless {@code batchId} is the prepared batch
   */
  public void commit(long batchId) {
    requireBatch(Phase.PREPARED, batchId, "commit");
    if (!persistent()) {
      version = batchId;
      batch = NONE;
      phase = Phase.IDLE;
      return;
    }
    Path delta = StateFiles.file(dir, StateFileHeader.Kind.DELTA, batchId);
    StateFiles.move(StateFiles.tmp(delta), delta);
    deltas = mutable(deltas);
    deltas.add(batchId);
    if (snapshotPrepared) {
      Path snapshot = StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, batchId);
      StateFiles.move(StateFiles.tmp(snapshot), snapshot);
      snapshots = mutable(snapshots);
      snapshots.add(batchId);
    }
    if (settings.fsync()) {
      StateFiles.forceDirectory(dir);
    }
    version = batchId;
    batch = NONE;
    phase = Phase.IDLE;
  }

  /**
   * Records that the engine committed batch {@code batchId}: its version can no longer be rolled
   * back, and files no replay of the newest {@link StateStoreSettings#retainVersions()} committed
   * versions needs are deleted. Idempotent; a version at or below the committed one is ignored.
   *
   * @throws IllegalStateException when version {@code batchId} was not persisted
   */
  public void committed(long batchId) {
    requireLoaded();
    if (batchId <= committed) {
      return;
    }
    if (batchId > version) {
      throw new IllegalStateException(
          "state version " + batchId + " is not persisted; the store holds version " + version);
    }
    committed = batchId;
    if (undoBatch != NONE && undoBatch <= batchId) {
      clearUndo();
      undoBatch = NONE;
    }
    clean();
  }

  /**
   * Returns to the version before the current batch, which is open, prepared, or persisted but not
   * committed; deletes that batch's files. A no-op when there is nothing to roll back, so it may be
   * called more than once.
   */
  public void abort() {
    switch (phase) {
      case OPEN -> rollback();
      case PREPARED -> {
        if (persistent()) {
          deleteTmp(batch);
        }
        rollback();
      }
      case IDLE -> {
        if (undoBatch == version && version > committed) {
          if (persistent()) {
            deleteAbove(version - 1);
          }
          version = version - 1;
          rollback();
        }
      }
      default -> {
        // NEW or CLOSED: nothing to roll back
      }
    }
  }

  private void deleteTmp(long b) {
    StateFiles.delete(StateFiles.tmp(StateFiles.file(dir, StateFileHeader.Kind.DELTA, b)));
    StateFiles.delete(StateFiles.tmp(StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, b)));
  }

  /** Aborts an open batch and releases the memory. Idempotent. */
  public void close() {
    if (phase == Phase.CLOSED) {
      return;
    }
    if (phase == Phase.OPEN || phase == Phase.PREPARED) {
      abort();
    }
    map = new HashMap<>();
    clearUndo();
    phase = Phase.CLOSED;
  }

  /**
   * What a persist wrote.
   *
   * @param batchId the version
   * @param deltaEntries puts and removes in the delta
   * @param deltaBytes the delta file's length
   * @param snapshotEntries keys in the snapshot, -1 when none was written
   * @param snapshotBytes the snapshot file's length, -1 when none was written
   */
  public record PersistStats(
      long batchId, long deltaEntries, long deltaBytes, long snapshotEntries, long snapshotBytes) {}

  /**
   * Forgets the rollback information. A new map rather than {@code clear()}: clearing a {@link
   * HashMap} costs in proportion to its table, which keeps the size of the largest batch the store
   * ever ran (the one that applied a million-key initial state, say), so every later batch would
   * pay for that one.
   */
  private void clearUndo() {
    if (!before.isEmpty()) {
      before = new HashMap<>();
    }
  }

  private void rollback() {
    for (Map.Entry<K, Object> e : before.entrySet()) {
      if (e.getValue() == ABSENT) {
        map.remove(e.getKey());
      } else {
        @SuppressWarnings("unchecked")
        V old = (V) e.getValue();
        map.put(e.getKey(), old);
      }
    }
    clearUndo();
    undoBatch = NONE;
    batch = NONE;
    snapshotPrepared = false;
    phase = Phase.IDLE;
  }

  /** Keeps the newest snapshot at or below the oldest retained version and the deltas after it. */
  private void clean() {
    if (!persistent()) {
      return;
    }
    long oldestRetained = Math.max(-1, committed - settings.retainVersions() + 1);
    Long base = snapshots.floor(oldestRetained);
    if (base == null) {
      return;
    }
    List<Long> oldSnapshots = new ArrayList<>(snapshots.headSet(base, false));
    List<Long> oldDeltas = new ArrayList<>(deltas.headSet(base, true));
    for (long v : oldSnapshots) {
      StateFiles.delete(StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, v));
      snapshots.remove(v);
    }
    for (long v : oldDeltas) {
      StateFiles.delete(StateFiles.file(dir, StateFileHeader.Kind.DELTA, v));
      deltas.remove(v);
    }
  }

  private void deleteAbove(long v) {
    deltas = mutable(deltas);
    snapshots = mutable(snapshots);
    List<Long> oldDeltas = new ArrayList<>(deltas.tailSet(v, false));
    List<Long> oldSnapshots = new ArrayList<>(snapshots.tailSet(v, false));
    if (oldDeltas.isEmpty() && oldSnapshots.isEmpty()) {
      return;
    }
    LOG.info(
        "Deleting state files of {} above version {} (persisted, never committed): deltas {},"
            + " snapshots {}",
        dir,
        v,
        oldDeltas,
        oldSnapshots);
    for (long d : oldDeltas) {
      StateFiles.delete(StateFiles.file(dir, StateFileHeader.Kind.DELTA, d));
      deltas.remove(d);
    }
    for (long s : oldSnapshots) {
      StateFiles.delete(StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, s));
      snapshots.remove(s);
    }
  }

  private void refuseNewerFormats(StateFiles.Listing listing) {
    // Any file a newer Sluice wrote, even one above the version to load, means this code must not
    // touch the directory.
    for (long d : listing.deltas()) {
      StateRecovery.checkFormat(StateFiles.file(dir, StateFileHeader.Kind.DELTA, d));
    }
    for (long s : listing.snapshots()) {
      StateRecovery.checkFormat(StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, s));
    }
  }

  private byte[] serializeKey(K key) {
    try {
      return keySerde.serialize(key);
    } catch (RuntimeException e) {
      throw new TerminalException(
          "cannot serialize state key " + key + " of " + dir + " with " + keySerde, e);
    }
  }

  private byte[] serializeValue(K key, V value) {
    try {
      return valueSerde.serialize(value);
    } catch (RuntimeException e) {
      throw new TerminalException(
          "cannot serialize the state value of key " + key + " of " + dir + " with " + valueSerde,
          e);
    }
  }

  private static NavigableSet<Long> mutable(NavigableSet<Long> set) {
    return set instanceof TreeSet<Long> ? set : new TreeSet<>(set);
  }

  private void requireLoaded() {
    if (phase == Phase.NEW || phase == Phase.CLOSED) {
      throw new IllegalStateException(
          "state store " + dir + " is " + phase + "; call recover(committedBatch) first");
    }
  }

  private void requireNotBusy(String what) {
    if (phase == Phase.OPEN || phase == Phase.PREPARED) {
      throw new IllegalStateException(
          "cannot " + what + " state store " + dir + " while batch " + batch + " is " + phase);
    }
    if (phase == Phase.CLOSED) {
      throw new IllegalStateException("state store " + dir + " is closed");
    }
  }

  private void requirePhase(Phase expected, String what) {
    if (phase != expected) {
      requireLoaded();
      throw new IllegalStateException(
          "cannot "
              + what
              + " on state store "
              + dir
              + ": it is "
              + phase
              + (batch == NONE ? "" : " with batch " + batch)
              + ", expected "
              + expected);
    }
  }

  private void requireBatch(Phase expected, long batchId, String what) {
    requirePhase(expected, what + " batch " + batchId);
    if (batch != batchId) {
      throw new IllegalStateException(
          "cannot "
              + what
              + " batch "
              + batchId
              + " on state store "
              + dir
              + ": batch "
              + batch
              + " is "
              + phase);
    }
  }

  @Override
  public String toString() {
    return "StateStore[" + dir + ", version " + version + ", committed " + committed + "]";
  }
}
