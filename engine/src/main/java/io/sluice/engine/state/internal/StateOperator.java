package io.sluice.engine.state.internal;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.rdd.Partitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.SourcePartitioned;
import io.sluice.engine.rdd.internal.OneToOne;
import io.sluice.engine.state.StateChange;
import io.sluice.engine.state.StateChangelog;
import io.sluice.engine.state.StateSerde;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime of one state operator ({@code updateStateByKey}, {@code mapWithState}): its
 * partitions' stores, recovered at start to the batch where the inputs' committed progress stands,
 * advanced by every batch (one version per batch id), committed when the batch commits.
 *
 * <p>Threads: {@link #open} on the job generator thread before any batch; a batch's state job
 * computes partitions on task threads, each under its partition's lock; {@link #finishBatch},
 * {@link #committed}, {@link #abort} on the job scheduler thread, between batches.
 *
 * @param <K> key type
 * @param <V> stored value type
 */
public final class StateOperator<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(StateOperator.class);

  private final Supplier<String> name;
  private final Partitioner partitioner;
  private final StateSerde<K> keySerde;
  private final StateSerde<V> valueSerde;
  private final ToLongFunction<V> expiresAt;
  private final Supplier<Map<K, V>> initial;
  // Set at open; volatile for the status readers of keyCount().
  private volatile List<StatePartition<K, V>> partitions = List.of();
  // Group mode: the state is kept per source partition (a Kafka topic-partition this process owns
  // now), restored from the changelog where the batches commit. Null otherwise.
  private volatile StateChangelog changelog;
  private final Map<String, StatePartition<K, V>> bySource = new ConcurrentHashMap<>();
  // The changes of each source partition in each batch not yet committed, for the changelog.
  private final NavigableMap<Long, Map<String, List<StateChange>>> changes = new TreeMap<>();
  private StateStoreSettings settings = StateStoreSettings.defaults();
  private final AtomicInteger sourceNumbers = new AtomicInteger();
  // The source partitions of each planned batch: after a batch's state job, the partitions it did
  // not read are no longer this process's (revoked), and their state is dropped. Guarded by this.
  private final NavigableMap<Long, Set<String>> batchSources = new TreeMap<>();
  // The state RDD of every batch planned and not yet run, by batch id: the job generator plans
  // ahead of the batch that runs. Guarded by this.
  private final NavigableMap<Long, RDD<?>> batchRdds = new TreeMap<>();

  /**
   * Describes an operator; nothing is read before {@link #open}.
   *
   * @param name the operator's stable name, read at open (it may be renamed before start)
   * @param partitioner keys to partitions; its number of partitions is fixed for the state's life
   * @param expiresAt when a stored value's key times out (epoch ms), or null without timeout
   * @param initial the initial state, computed at open when the operator starts without state
   */
  public StateOperator(
      Supplier<String> name,
      Partitioner partitioner,
      StateSerde<K> keySerde,
      StateSerde<V> valueSerde,
      ToLongFunction<V> expiresAt,
      Supplier<Map<K, V>> initial) {
    this.name = Objects.requireNonNull(name, "name");
    this.partitioner = Objects.requireNonNull(partitioner, "partitioner");
    this.keySerde = Objects.requireNonNull(keySerde, "keySerde");
    this.valueSerde = Objects.requireNonNull(valueSerde, "valueSerde");
    this.expiresAt = expiresAt;
    this.initial = initial;
  }

  /** The operator's stable name. */
  public String name() {
    return name.get();
  }

  /** How keys map to partitions. */
  public Partitioner partitioner() {
    return partitioner;
  }

  /** The number of partitions. */
  public int numPartitions() {
    return partitioner.numPartitions();
  }

  /** Partition {@code p}; after {@link #open}. */
  public StatePartition<K, V> partition(int p) {
    return partitions.get(p);
  }

  /**
   * Loads the state of batch {@code committedBatch}, where the inputs' committed progress stands
   * (-1: none). Under {@code stateRoot} (null: memory only); an operator with no directory there is
   * new and starts empty (or with its initial state) at that batch.
   *
   * @param checkpointHasHistory whether the checkpoint holds batches of earlier runs, so that a
   *     missing directory means a new operator rather than a lost checkpoint
   * @throws CheckpointException when the state cannot be brought to {@code committedBatch}, or has
   *     another number of partitions than the application asks for
   */
  public void open(
      Path stateRoot,
      long committedBatch,
      StateStoreSettings settings,
      boolean checkpointHasHistory) {
    String op = name();
    if (changelog != null) {
      this.settings = settings;
      if (stateRoot != null && hasState(StateDirectories.operatorDir(stateRoot, op))) {
        LOG.warn(
            "state operator '{}' keeps its state in {} now; the state in {} is not read (it was"
                + " written while the operator kept its state in the checkpoint directory)",
            op,
            changelog.describeChangelog(),
            StateDirectories.operatorDir(stateRoot, op));
      }
      LOG.info(
          "state operator '{}' keeps its state per input partition in {}: a partition's state is"
              + " restored from there when this process starts reading the partition",
          op,
          changelog.describeChangelog());
      return;
    }
    int n = numPartitions();
    Map<Integer, Map<K, V>> initialByPartition = null;
    boolean fresh = stateRoot == null || !hasState(StateDirectories.operatorDir(stateRoot, op));
    if (fresh || committedBatch < 0) {
      initialByPartition = partitionInitial();
    }
    if (stateRoot != null && !fresh) {
      checkPartitions(StateDirectories.operatorDir(stateRoot, op), n);
    } else if (stateRoot != null && committedBatch >= 0) {
      if (checkpointHasHistory) {
        LOG.info(
            "state operator '{}' is new: its state starts {} at batch {}",
            op,
            initial == null ? "empty" : "with its initial state",
            committedBatch);
      } else {
        LOG.warn(
            "state operator '{}' has no state in {} although the inputs have committed batch {}: its state"
                + " starts {} there. If the checkpoint directory was lost or replaced, the state it held is"
                + " gone; restore the directory to keep it",
            op,
            stateRoot,
            committedBatch,
            initial == null ? "empty" : "with its initial state");
      }
    }
    List<StatePartition<K, V>> parts = new ArrayList<>(n);
    for (int p = 0; p < n; p++) {
      StateStore<K, V> store =
          stateRoot == null
              ? StateStore.inMemory(settings)
              : StateStore.open(
                  StateDirectories.partitionDir(stateRoot, op, p), keySerde, valueSerde, settings);
      StatePartition<K, V> part = new StatePartition<>(p, store, expiresAt);
      Map<K, V> init = initialByPartition == null ? Map.of() : initialByPartition.get(p);
      if (fresh) {
        store.recover(-1);
        if (committedBatch >= 0) {
          store.seed(committedBatch, init);
          store.committed(committedBatch);
        } else {
          part.initial(init);
        }
      } else {
        recover(op, store, committedBatch);
        if (committedBatch < 0) {
          part.initial(init);
        }
      }
      part.reindex();
      parts.add(part);
    }
    partitions = List.copyOf(parts);
  }

  private Map<Integer, Map<K, V>> partitionInitial() {
    Map<Integer, Map<K, V>> out = new HashMap<>();
    for (int p = 0; p < numPartitions(); p++) {
      out.put(p, new HashMap<>());
    }
    if (initial != null) {
      initial.get().forEach((k, v) -> out.get(partitioner.partition(k)).put(k, v));
    }
    return out;
  }

  private static boolean hasState(Path operatorDir) {
    if (!Files.isDirectory(operatorDir)) {
      return false;
    }
    try (Stream<Path> children = Files.list(operatorDir)) {
      return children.anyMatch(Files::isDirectory);
    } catch (java.io.IOException e) {
      throw new CheckpointException("cannot list state directory " + operatorDir + ": " + e, e);
    }
  }

  private void checkPartitions(Path operatorDir, int wanted) {
    int found;
    try (Stream<Path> children = Files.list(operatorDir)) {
      found =
          (int)
              children
                  .filter(Files::isDirectory)
                  .filter(d -> d.getFileName().toString().matches("\\d+"))
                  .count();
    } catch (java.io.IOException e) {
      throw new CheckpointException("cannot list state directory " + operatorDir + ": " + e, e);
    }
    if (found != wanted) {
      throw new CheckpointException(
          "the state of operator '"
              + name()
              + "' in "
              + operatorDir
              + " has "
              + found
              + " partitions, but the application now asks for "
              + wanted
              + " (the operator's numPartitions or partitioner, or the context's parallelism, changed);"
              + " keep "
              + found
              + " partitions to keep the state (numPartitions("
              + found
              + ")), or remove the directory to start the operator empty");
    }
  }

  private void recover(String op, StateStore<K, V> store, long committedBatch) {
    try {
      store.recover(committedBatch);
    } catch (CheckpointException e) {
      StateFiles.Listing listing = StateFiles.scan(store.directory());
      NavigableSet<Long> versions = new TreeSet<>(listing.deltas());
      versions.addAll(listing.snapshots());
      String held =
          versions.isEmpty()
              ? "no version"
              : "versions " + versions.first() + ".." + versions.last();
      String behind =
          !versions.isEmpty() && versions.last() < committedBatch
              ? "; the state is behind the inputs' committed progress (restored from an older copy?):"
                  + " restore the state that goes with batch "
                  + committedBatch
                  + ", or remove the operator's directory and rebuild its state by replaying the input from"
                  + " an earlier offset"
              : "";
      throw new CheckpointException(
          "the state of operator '"
              + op
              + "' cannot be brought to batch "
              + committedBatch
              + ", where the inputs' committed progress stands: "
              + store.directory()
              + " holds "
              + held
              + behind
              + " ("
              + e.getMessage()
              + ")",
          e);
    }
  }

  /**
   * Keeps the state per source partition, restored from and written to {@code changelog} (group
   * mode); before {@link #open}.
   */
  public void followSources(StateChangelog changelog) {
    this.changelog = Objects.requireNonNull(changelog, "changelog");
  }

  /** Whether the operator starts from an initial state when it has none. */
  public boolean hasInitialState() {
    return initial != null;
  }

  /** Whether the state is kept per source partition (group mode). */
  public boolean followsSources() {
    return changelog != null;
  }

  /**
   * For each partition of {@code input}, batch {@code batchId}'s input, the source partition it
   * reads; null unless {@link #followsSources()}. Resolved when the batch is planned, through
   * one-to-one transformations.
   *
   * @throws IllegalStateException when a partition does not read one source partition (a shuffle,
   *     union or coalesce lies between the input and this operator)
   */
  public String[] sourcesOf(long batchId, RDD<?> input) {
    if (changelog == null) {
      return null;
    }
    String[] out = new String[input.numPartitions()];
    for (int p = 0; p < out.length; p++) {
      out[p] = sourceOf(input, p);
    }
    synchronized (this) {
      batchSources.put(batchId, Set.of(out));
    }
    return out;
  }

  private String sourceOf(RDD<?> rdd, int p) {
    RDD<?> at = rdd;
    while (true) {
      if (at instanceof SourcePartitioned source) {
        return source.sourcePartition(p);
      }
      RDD<?> parent = OneToOne.parentOf(at);
      if (parent != null) {
        at = parent;
      } else {
        throw new IllegalStateException(
            "state operator '"
                + name()
                + "' keeps its state per input partition (group mode), but partition "
                + p
                + " of its input is not one input partition ("
                + at.getClass().getSimpleName()
                + "): keep only one-to-one transformations (map, filter, mapToPair, mapValues, ...)"
                + " between the Kafka input and the operator");
      }
    }
  }

  /**
   * The state partition of source partition {@code source} for batch {@code batchId}, restored from
   * the changelog when this process does not hold it yet. On a task thread.
   */
  public StatePartition<K, V> sourcePartition(String source, long batchId) {
    StatePartition<K, V> part = bySource.get(source);
    if (part != null) {
      return part;
    }
    return bySource.computeIfAbsent(source, s -> restore(s, batchId));
  }

  private StatePartition<K, V> restore(String source, long batchId) {
    long started = System.nanoTime();
    Map<K, V> entries = new HashMap<>();
    try {
      changelog.restore(
          name(),
          source,
          (k, v) -> entries.put(keySerde.deserialize(k), valueSerde.deserialize(v)));
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new CheckpointException(
          "cannot restore the state of operator '"
              + name()
              + "' for input partition "
              + source
              + " from "
              + changelog.describeChangelog()
              + ": "
              + e,
          e);
    }
    StateStore<K, V> store = StateStore.inMemory(settings);
    store.recover(-1);
    StatePartition<K, V> part =
        new StatePartition<>(sourceNumbers.getAndIncrement(), store, expiresAt);
    if (batchId > 0) {
      store.seed(batchId - 1, entries);
      store.committed(batchId - 1);
    } else {
      part.initial(entries);
    }
    part.reindex();
    LOG.info(
        "state operator '{}': restored {} keys of input partition {} from {} in {} ms",
        name(),
        entries.size(),
        source,
        changelog.describeChangelog(),
        (System.nanoTime() - started) / 1_000_000);
    return part;
  }

  /**
   * Records what batch {@code batchId} changed in source partition {@code source}, which {@code
   * part} just persisted; replaces what an earlier attempt of the same partition recorded.
   */
  public void recordChanges(String source, StatePartition<K, V> part, long batchId) {
    Map<K, V> changed = part.store().lastChanges();
    List<StateChange> out = new ArrayList<>(changed.size());
    String op = name();
    for (Map.Entry<K, V> e : changed.entrySet()) {
      out.add(
          new StateChange(
              op,
              source,
              keySerde.serialize(e.getKey()),
              e.getValue() == null ? null : valueSerde.serialize(e.getValue())));
    }
    synchronized (changes) {
      changes.computeIfAbsent(batchId, b -> new HashMap<>()).put(source, List.copyOf(out));
    }
  }

  /** The changes batch {@code batchId} made, source partition by source partition. */
  public List<StateChange> changes(long batchId) {
    synchronized (changes) {
      Map<String, List<StateChange>> bySourceChanges = changes.get(batchId);
      if (bySourceChanges == null) {
        return List.of();
      }
      List<StateChange> out = new ArrayList<>();
      new TreeMap<>(bySourceChanges).values().forEach(out::addAll);
      return out;
    }
  }

  /**
   * The number of keys held, over every partition (or source partition) of this process, as of each
   * partition's last persist, recovery or rollback; 0 before {@link #open}. Any thread; takes no
   * partition's lock, so a status reader never waits for a batch computing a partition.
   */
  public long keyCount() {
    long n = 0;
    for (StatePartition<K, V> part : held()) {
      n += part.keys();
    }
    return n;
  }

  /**
   * The partitions whose state this process holds: {@link #numPartitions()} after {@link #open}, or
   * in group mode the source partitions it holds now. Any thread.
   */
  public int partitionsHeld() {
    return held().size();
  }

  private List<StatePartition<K, V>> held() {
    return changelog == null ? partitions : List.copyOf(bySource.values());
  }

  /** The batch's state RDD, computed by the engine's state job before the batch's outputs. */
  public synchronized void batchRdd(long batchId, RDD<?> rdd) {
    batchRdds.put(batchId, rdd);
  }

  /**
   * Takes the state RDD registered for {@code batchId}, or null when its stream had none; forgets
   * those of earlier batches, which will not run.
   */
  public synchronized RDD<?> takeBatchRdd(long batchId) {
    RDD<?> rdd = batchRdds.remove(batchId);
    batchRdds.headMap(batchId, false).clear();
    return rdd;
  }

  /**
   * Brings every partition the batch's state RDD did not compute to version {@code batchId}
   * unchanged (a batch in which the operator's stream produced nothing), so versions follow batch
   * ids.
   */
  public void finishBatch(long batchId) {
    if (changelog != null) {
      dropUnread(batchId);
      return;
    }
    for (StatePartition<K, V> part : partitions) {
      synchronized (part.lock()) {
        if (part.store().version() < batchId) {
          part.begin(batchId);
          part.persist(batchId);
        }
      }
    }
  }

  /**
   * Drops the state of the source partitions batch {@code batchId} did not read: this process does
   * not own them any more, and when it gets one back its state is restored afresh.
   */
  private void dropUnread(long batchId) {
    Set<String> read;
    synchronized (this) {
      read = batchSources.remove(batchId);
      batchSources.headMap(batchId, false).clear();
    }
    if (read == null) {
      return;
    }
    for (String source : List.copyOf(bySource.keySet())) {
      if (!read.contains(source)) {
        StatePartition<K, V> part = bySource.remove(source);
        synchronized (part.lock()) {
          LOG.info(
              "state operator '{}': input partition {} moved away after batch {}; its {} keys"
                  + " are dropped here",
              name(),
              source,
              batchId,
              part.store().size());
          part.store().close();
        }
      }
    }
  }

  /** The batch committed: its version is the committed one, older files are cleaned. */
  public void committed(long batchId) {
    synchronized (changes) {
      changes.headMap(batchId, true).clear();
    }
    for (StatePartition<K, V> part : held()) {
      synchronized (part.lock()) {
        part.store().committed(batchId);
      }
    }
  }

  /** The batch failed: every partition returns to the version before it. */
  public void abort() {
    synchronized (changes) {
      changes.clear();
    }
    for (StatePartition<K, V> part : held()) {
      synchronized (part.lock()) {
        part.abort();
      }
    }
  }

  /** Releases the memory; idempotent. */
  public void close() {
    for (StatePartition<K, V> part : held()) {
      synchronized (part.lock()) {
        part.store().close();
      }
    }
  }
}
