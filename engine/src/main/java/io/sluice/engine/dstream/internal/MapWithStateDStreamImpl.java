package io.sluice.engine.dstream.internal;

import io.sluice.engine.KV;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.MapWithStateDStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.function.Function3;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.Dependency;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.engine.rdd.internal.Fn;
import io.sluice.engine.state.State;
import io.sluice.engine.state.StateSerde;
import io.sluice.engine.state.StateSpec;
import io.sluice.engine.state.internal.StateOperator;
import io.sluice.engine.state.internal.StatePartition;
import io.sluice.engine.state.internal.Timed;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code mapWithState}: per batch, the mapping function for every record (in partition order) and
 * for every key whose timeout passed, found through the state partitions' expiry index. A batch
 * costs in proportion to its records and the keys timing out, not to the state's size.
 *
 * @param <K> key type
 * @param <V> value type
 * @param <S> state type
 * @param <M> mapped type
 */
public final class MapWithStateDStreamImpl<K, V, S, M> extends MapWithStateDStream<K, V, S, M> {

  private final DStream<KV<K, V>> parent;
  private final Function3<K, Optional<V>, State<S>, M> function;
  private final long timeoutMs; // 0: none
  private final StateOperator<K, Timed<S>> operator;

  /** Creates the operator over {@code parent}. */
  public MapWithStateDStreamImpl(DStream<KV<K, V>> parent, StateSpec<K, V, S, M> spec) {
    super(parent.context(), "mapWithState");
    this.parent = parent;
    this.function = spec.function();
    this.timeoutMs = spec.timeout().map(Duration::toMillis).orElse(0L);
    long timeout = timeoutMs;
    StateSerde<S> states = spec.stateSerde().orElseGet(StateSerde::typedJson);
    this.operator =
        new StateOperator<>(
            this::name,
            spec.partitioner(parent.context().parallelism()),
            spec.keySerde().orElseGet(StateSerde::typedJson),
            Timed.serde(states),
            timeout > 0 ? t -> t.updatedMs() + timeout : null,
            StateStreams.collect(
                spec.initialState().orElse(null),
                s -> new Timed<>(s, parent.context().clock().now().toEpochMilli())));
    EngineAccess.runtime(parent.context()).registerStateOperator(operator);
  }

  /** The operator's state. */
  public StateOperator<K, Timed<S>> operator() {
    return operator;
  }

  @Override
  public List<DStream<?>> dependencies() {
    return List.of(parent);
  }

  @Override
  public Duration slideDuration() {
    return parent.slideDuration();
  }

  @Override
  protected Optional<RDD<M>> compute(Instant time) {
    long timeMs = time.toEpochMilli();
    return StateStreams.batchRdd(
        parent, operator, time, (part, in, id) -> mapPartition(part, in, id, timeMs));
  }

  private List<M> mapPartition(
      StatePartition<K, Timed<S>> part, Iterator<KV<K, List<V>>> in, long batchId, long timeMs) {
    part.begin(batchId);
    try {
      List<M> out = new ArrayList<>();
      while (in.hasNext()) {
        KV<K, List<V>> kv = in.next();
        for (V value : kv.value()) {
          call(part, kv.key(), Optional.ofNullable(value), false, timeMs, out);
        }
      }
      if (timeoutMs > 0) {
        for (K key : part.expiringBy(timeMs)) {
          call(part, key, Optional.empty(), true, timeMs, out);
        }
      }
      part.persist(batchId);
      return out;
    } catch (RuntimeException | Error e) {
      part.abort();
      throw e;
    }
  }

  private void call(
      StatePartition<K, Timed<S>> part,
      K key,
      Optional<V> value,
      boolean timingOut,
      long timeMs,
      List<M> out) {
    Timed<S> current = part.store().get(key);
    KeyState<S> state = new KeyState<>(current == null ? null : current.state(), timingOut);
    M mapped = Fn.call(function, key, value, state);
    if (timingOut || state.removed) {
      if (current != null) {
        part.remove(key);
      }
    } else if (state.updated) {
      part.put(key, new Timed<>(state.value, timeMs));
    }
    if (mapped != null) {
      out.add(mapped);
    }
  }

  @Override
  public PairDStream<K, S> stateSnapshots() {
    return PairDStream.of(new Snapshots());
  }

  /** The state after each batch, copied from the stores in the batch. */
  private final class Snapshots extends DStream<KV<K, S>> {

    Snapshots() {
      super(MapWithStateDStreamImpl.this.context(), "stateSnapshots");
    }

    @Override
    public List<DStream<?>> dependencies() {
      return List.of(MapWithStateDStreamImpl.this);
    }

    @Override
    protected Optional<RDD<KV<K, S>>> compute(Instant time) {
      OptionalLong batchId = StateStreams.batchIdAt(context(), time);
      return MapWithStateDStreamImpl.this
          .rddAt(time)
          .map(mapped -> new SnapshotRDD(mapped, batchId.orElse(-1)));
    }
  }

  private final class SnapshotRDD extends RDD<KV<K, S>> {
    private final RDD<M> mapped;
    private final long batchId;

    SnapshotRDD(RDD<M> mapped, long batchId) {
      super(mapped.context());
      this.mapped = mapped;
      this.batchId = batchId;
    }

    @Override
    public int numPartitions() {
      return mapped.numPartitions();
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.narrow(mapped));
    }

    @Override
    public Iterator<KV<K, S>> compute(int partition, TaskContext ctx) {
      mapped.iterator(partition, ctx); // the batch's state update, once
      StatePartition<K, Timed<S>> part = StateStreams.statePartitionOf(mapped, partition);
      synchronized (part.lock()) {
        long version = part.store().version();
        if (version != batchId) {
          throw new IllegalStateException(
              "the state snapshot of operator '"
                  + name()
                  + "' for batch "
                  + batchId
                  + " was read after the state moved to version "
                  + version
                  + "; read stateSnapshots() in its own batch (an output operation, not a window)");
        }
        List<KV<K, S>> out = new ArrayList<>(part.store().size());
        for (Map.Entry<K, Timed<S>> e : part.store().view().entrySet()) {
          out.add(KV.of(e.getKey(), e.getValue().state()));
        }
        return out.iterator();
      }
    }
  }

  /** The {@link State} handed to one call. */
  private static final class KeyState<S> implements State<S> {
    private final boolean timingOut;
    private S value;
    private boolean updated;
    private boolean removed;

    KeyState(S value, boolean timingOut) {
      this.value = value;
      this.timingOut = timingOut;
    }

    @Override
    public boolean exists() {
      return value != null;
    }

    @Override
    public S get() {
      if (value == null) {
        throw new NoSuchElementException("the key has no state");
      }
      return value;
    }

    @Override
    public Optional<S> getOption() {
      return Optional.ofNullable(value);
    }

    @Override
    public void update(S newState) {
      Objects.requireNonNull(newState, "newState (use remove())");
      if (timingOut) {
        throw new IllegalStateException("cannot update the state of a key that is timing out");
      }
      value = newState;
      updated = true;
      removed = false;
    }

    @Override
    public void remove() {
      if (timingOut) {
        throw new IllegalStateException(
            "cannot remove the state of a key that is timing out (it is removed after the call)");
      }
      value = null;
      removed = true;
      updated = false;
    }

    @Override
    public boolean isTimingOut() {
      return timingOut;
    }
  }
}
