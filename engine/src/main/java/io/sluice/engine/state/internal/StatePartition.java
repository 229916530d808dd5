package io.sluice.engine.state.internal;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * One partition of a state operator: its {@link StateStore} and, for an operator with a timeout,
 * the index of keys by the time they expire, so that a batch finds the keys timing out without
 * scanning the state. A task owns it for the length of one batch's computation (the caller holds
 * {@link #lock()}); the engine's scheduler thread commits and aborts under the same lock.
 *
 * @param <K> key type
 * @param <V> stored value type
 */
public final class StatePartition<K, V> {

  private final int partition;
  private final StateStore<K, V> store;
  private final ToLongFunction<V> expiresAt; // null: no timeout
  private final NavigableMap<Long, Set<K>> byExpiry = new TreeMap<>();
  private final Map<K, Long> expiryOf = new HashMap<>();
  private final Object lock = new Object();
  private Map<K, V> initial = Map.of();
  // The store's size as of the last persist, recovery or rollback, for readers without the lock.
  private volatile int keys;

  StatePartition(int partition, StateStore<K, V> store, ToLongFunction<V> expiresAt) {
    this.partition = partition;
    this.store = store;
    this.expiresAt = expiresAt;
  }

  /** The partition number. */
  public int partition() {
    return partition;
  }

  /** The lock every use of this partition holds. */
  public Object lock() {
    return lock;
  }

  /**
   * Keys in the store as of its last persisted batch (or its recovery, or the rollback of a failed
   * batch); any thread, without the lock.
   */
  public int keys() {
    return keys;
  }

  /** The store; the caller holds {@link #lock()}. */
  public StateStore<K, V> store() {
    return store;
  }

  /**
   * Entries to add in the next batch to persist: the initial state of an operator starting without
   * committed state; kept until a batch with them persists, so a retried batch adds them again.
   */
  void initial(Map<K, V> entries) {
    initial = Map.copyOf(entries);
  }

  /**
   * Opens batch {@code batchId}: from version {@code batchId - 1}, first making that the version (a
   * snapshot) when batches in between never ran; before the operator's first batch, with its
   * initial state. Caller holds the lock.
   */
  public void begin(long batchId) {
    if (store.version() < batchId - 1) {
      store.seed(batchId - 1, Map.of());
      reindex();
    }
    store.begin(batchId);
    initial.forEach(this::put);
  }

  /** Sets {@code key}'s value, keeping the expiry index. Caller holds the lock. */
  public void put(K key, V value) {
    store.put(key, value);
    if (expiresAt != null) {
      unindex(key);
      long at = expiresAt.applyAsLong(value);
      byExpiry.computeIfAbsent(at, t -> new LinkedHashSet<>()).add(key);
      expiryOf.put(key, at);
    }
  }

  /** Removes {@code key}, keeping the expiry index. Caller holds the lock. */
  public void remove(K key) {
    store.remove(key);
    if (expiresAt != null) {
      unindex(key);
    }
  }

  private void unindex(K key) {
    Long old = expiryOf.remove(key);
    if (old != null) {
      Set<K> keys = byExpiry.get(old);
      keys.remove(key);
      if (keys.isEmpty()) {
        byExpiry.remove(old);
      }
    }
  }

  /**
   * The keys expiring at or before {@code timeMs}, oldest first; a copy, so the caller may remove
   * them. Caller holds the lock.
   */
  public Set<K> expiringBy(long timeMs) {
    Set<K> out = new LinkedHashSet<>();
    for (Set<K> keys : byExpiry.headMap(timeMs, true).values()) {
      out.addAll(keys);
    }
    return out;
  }

  /** Writes the open batch's version; it is persisted, not committed. Caller holds the lock. */
  public StateStore.PersistStats persist(long batchId) {
    StateStore.PersistStats stats = store.prepare(batchId);
    store.commit(batchId);
    initial = Map.of();
    keys = store.size();
    return stats;
  }

  /**
   * Returns to the version before the current batch when it did not commit; rebuilds the index.
   * Caller holds the lock.
   */
  public void abort() {
    store.abort();
    reindex();
  }

  /** Rebuilds the expiry index from the store: after recovery, a seed or an abort. */
  void reindex() {
    keys = store.size();
    if (expiresAt == null) {
      return;
    }
    byExpiry.clear();
    expiryOf.clear();
    store
        .view()
        .forEach(
            (k, v) -> {
              long at = expiresAt.applyAsLong(v);
              byExpiry.computeIfAbsent(at, t -> new LinkedHashSet<>()).add(k);
              expiryOf.put(k, at);
            });
  }
}
