package io.sluice.engine.state;

import io.sluice.engine.KV;
import io.sluice.engine.function.Function3;
import io.sluice.engine.rdd.HashPartitioner;
import io.sluice.engine.rdd.Partitioner;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code PairDStream.mapWithState} does: the mapping function, called once per record of a
 * batch with the record's key, its value and the key's {@link State}, and once more for a key that
 * timed out; and how the state is kept. Immutable: every setter returns a new spec.
 *
 * <pre>{@code
 * StateSpec<String, Click, Session, Summary> spec =
 *     StateSpec.function(SessionTracker::onClick).timeout(Duration.ofMinutes(30));
 * }</pre>
 *
 * @param <K> key type
 * @param <V> value type
 * @param <S> state type
 * @param <M> mapped type (null results are dropped)
 */
public final class StateSpec<K, V, S, M> {

  private final Function3<K, Optional<V>, State<S>, M> function;
  private final RDD<KV<K, S>> initialState;
  private final Partitioner partitioner;
  private final Integer numPartitions;
  private final Duration timeout;
  private final StateSerde<K> keySerde;
  private final StateSerde<S> stateSerde;

  private StateSpec(
      Function3<K, Optional<V>, State<S>, M> function,
      RDD<KV<K, S>> initialState,
      Partitioner partitioner,
      Integer numPartitions,
      Duration timeout,
      StateSerde<K> keySerde,
      StateSerde<S> stateSerde) {
    this.function = function;
    this.initialState = initialState;
    this.partitioner = partitioner;
    this.numPartitions = numPartitions;
    this.timeout = timeout;
    this.keySerde = keySerde;
    this.stateSerde = stateSerde;
  }

  /**
   * A spec calling {@code function(key, value, state)} for every record of a batch, in the order
   * the records have within their partition; a record's call sees the state the previous record of
   * the same key left.
   */
  public static <K, V, S, M> StateSpec<K, V, S, M> function(
      Function3<K, Optional<V>, State<S>, M> function) {
    return new StateSpec<>(
        Objects.requireNonNull(function, "function"), null, null, null, null, null, null);
  }

  /**
   * The state the keys have before the operator's first batch, when it starts without state (a new
   * operator, or state dropped); ignored once the operator has state.
   */
  public StateSpec<K, V, S, M> initialState(RDD<KV<K, S>> rdd) {
    return new StateSpec<>(
        function,
        Objects.requireNonNull(rdd, "rdd"),
        partitioner,
        numPartitions,
        timeout,
        keySerde,
        stateSerde);
  }

  /**
   * The number of state partitions, hashing keys; default the context's parallelism. Fixed for the
   * life of the state: a restart with another number is refused.
   */
  public StateSpec<K, V, S, M> numPartitions(int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("numPartitions must be > 0, was " + n);
    }
    return new StateSpec<>(function, initialState, null, n, timeout, keySerde, stateSerde);
  }

  /** How keys map to state partitions; replaces {@link #numPartitions}. */
  public StateSpec<K, V, S, M> partitioner(Partitioner p) {
    return new StateSpec<>(
        function,
        initialState,
        Objects.requireNonNull(p, "partitioner"),
        null,
        timeout,
        keySerde,
        stateSerde);
  }

  /**
   * Removes a key whose state was not updated for {@code idle}: in the first batch whose time is at
   * least {@code idle} after the batch of the key's last update, the function is called once more
   * for it with no value and {@link State#isTimingOut()} true, then its state is removed. Finding
   * the keys costs in proportion to the keys timing out, not to the state's size.
   */
  public StateSpec<K, V, S, M> timeout(Duration idle) {
    Objects.requireNonNull(idle, "idle");
    if (idle.isNegative() || idle.isZero()) {
      throw new IllegalArgumentException("timeout must be > 0, was " + idle);
    }
    return new StateSpec<>(
        function, initialState, partitioner, numPartitions, idle, keySerde, stateSerde);
  }

  /** How keys are written to the state store; default {@link StateSerde#typedJson()}. */
  public StateSpec<K, V, S, M> keySerde(StateSerde<K> serde) {
    return new StateSpec<>(
        function,
        initialState,
        partitioner,
        numPartitions,
        timeout,
        Objects.requireNonNull(serde, "serde"),
        stateSerde);
  }

  /** How states are written to the state store; default {@link StateSerde#typedJson()}. */
  public StateSpec<K, V, S, M> stateSerde(StateSerde<S> serde) {
    return new StateSpec<>(
        function,
        initialState,
        partitioner,
        numPartitions,
        timeout,
        keySerde,
        Objects.requireNonNull(serde, "serde"));
  }

  /** The mapping function. */
  public Function3<K, Optional<V>, State<S>, M> function() {
    return function;
  }

  /** The initial state, if set. */
  public Optional<RDD<KV<K, S>>> initialState() {
    return Optional.ofNullable(initialState);
  }

  /** The partitioner, given {@code defaultPartitions} when neither it nor a number was set. */
  public Partitioner partitioner(int defaultPartitions) {
    if (partitioner != null) {
      return partitioner;
    }
    return new HashPartitioner(numPartitions != null ? numPartitions : defaultPartitions);
  }

  /** The idle timeout, if set. */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  /** The key serde, if set. */
  public Optional<StateSerde<K>> keySerde() {
    return Optional.ofNullable(keySerde);
  }

  /** The state serde, if set. */
  public Optional<StateSerde<S>> stateSerde() {
    return Optional.ofNullable(stateSerde);
  }
}
