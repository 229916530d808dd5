package io.sluice.engine.dstream;

import io.sluice.engine.KV;
import io.sluice.engine.dstream.internal.MapWithStateDStreamImpl;
import io.sluice.engine.dstream.internal.ReducedWindowedDStream;
import io.sluice.engine.dstream.internal.TransformedDStream;
import io.sluice.engine.dstream.internal.UpdateStateByKeyDStream;
import io.sluice.engine.function.FlatMapFunction;
import io.sluice.engine.function.Function;
import io.sluice.engine.function.Function2;
import io.sluice.engine.rdd.HashPartitioner;
import io.sluice.engine.rdd.PairRDD;
import io.sluice.engine.rdd.Partitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.StateSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A stream of {@link KV} pairs with per-batch key operations (the {@link PairRDD} operations
 * applied to each batch) and keyed windows. A view over the operator that produces the pairs: it
 * shares that operator's RDDs and name. Shuffles use a {@link HashPartitioner} over the context's
 * parallelism unless a number of partitions is given.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class PairDStream<K, V> extends DStream<KV<K, V>> {

  private final DStream<KV<K, V>> parent;

  private PairDStream(DStream<KV<K, V>> parent) {
    super(parent);
    this.parent = parent;
  }

  /** {@code stream} itself if it is a PairDStream, else a pair view of it. */
  public static <K, V> PairDStream<K, V> of(DStream<KV<K, V>> stream) {
    Objects.requireNonNull(stream, "stream");
    return stream instanceof PairDStream<K, V> p ? p : new PairDStream<>(stream);
  }

  @Override
  public PairDStream<K, V> name(String newName) {
    super.name(newName);
    return this;
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
  protected Optional<RDD<KV<K, V>>> compute(Instant time) {
    return parent.rddAt(time).map(PairRDD::of);
  }

  private <W> PairDStream<K, W> pairOp(String kind, Function<PairRDD<K, V>, RDD<KV<K, W>>> f) {
    return PairDStream.of(
        new TransformedDStream<KV<K, V>, KV<K, W>>(
            this, kind, (rdd, t) -> f.call(PairRDD.of(rdd))));
  }

  /** Applies {@code f} to each value. */
  public <W> PairDStream<K, W> mapValues(Function<V, W> f) {
    Objects.requireNonNull(f, "f");
    return pairOp("mapValues", rdd -> rdd.mapValues(f));
  }

  /** Applies {@code f} to each value and pairs each result with the key. */
  public <W> PairDStream<K, W> flatMapValues(FlatMapFunction<V, W> f) {
    Objects.requireNonNull(f, "f");
    return pairOp("flatMapValues", rdd -> rdd.flatMapValues(f));
  }

  /** Per batch, merges each key's values with {@code f} (map-side combined). */
  public PairDStream<K, V> reduceByKey(Function2<V, V, V> f) {
    return reduceByKey(f, defaultPartitions());
  }

  /** As {@link #reduceByKey(Function2)} into {@code numPartitions} partitions. */
  public PairDStream<K, V> reduceByKey(Function2<V, V, V> f, int numPartitions) {
    Objects.requireNonNull(f, "f");
    Partitioner p = new HashPartitioner(numPartitions);
    return pairOp("reduceByKey", rdd -> rdd.reduceByKey(f, p));
  }

  /** Per batch, groups each key's values. */
  public PairDStream<K, List<V>> groupByKey() {
    return groupByKey(defaultPartitions());
  }

  /** As {@link #groupByKey()} into {@code numPartitions} partitions. */
  public PairDStream<K, List<V>> groupByKey(int numPartitions) {
    Partitioner p = new HashPartitioner(numPartitions);
    return pairOp("groupByKey", rdd -> rdd.groupByKey(p));
  }

  /** Per batch, {@link PairRDD#combineByKey(Function, Function2, Function2)}. */
  public <C> PairDStream<K, C> combineByKey(
      Function<V, C> create, Function2<C, V, C> mergeValue, Function2<C, C, C> mergeCombiners) {
    return combineByKey(create, mergeValue, mergeCombiners, defaultPartitions());
  }

  /**
   * As {@link #combineByKey(Function, Function2, Function2)} into {@code numPartitions} partitions.
   */
  public <C> PairDStream<K, C> combineByKey(
      Function<V, C> create,
      Function2<C, V, C> mergeValue,
      Function2<C, C, C> mergeCombiners,
      int numPartitions) {
    Objects.requireNonNull(create, "create");
    Objects.requireNonNull(mergeValue, "mergeValue");
    Objects.requireNonNull(mergeCombiners, "mergeCombiners");
    Partitioner p = new HashPartitioner(numPartitions);
    return pairOp("combineByKey", rdd -> rdd.combineByKey(create, mergeValue, mergeCombiners, p));
  }

  /** Per batch, the inner join with {@code other}'s batch. */
  public <W> PairDStream<K, KV<V, W>> join(DStream<KV<K, W>> other) {
    return join(other, defaultPartitions());
  }

  /** As {@link #join(DStream)} into {@code numPartitions} partitions. */
  public <W> PairDStream<K, KV<V, W>> join(DStream<KV<K, W>> other, int numPartitions) {
    Partitioner p = new HashPartitioner(numPartitions);
    return binary("join", other, (a, b) -> a.join(b, p));
  }

  /** Per batch, the left outer join with {@code other}'s batch. */
  public <W> PairDStream<K, KV<V, Optional<W>>> leftOuterJoin(DStream<KV<K, W>> other) {
    return leftOuterJoin(other, defaultPartitions());
  }

  /** As {@link #leftOuterJoin(DStream)} into {@code numPartitions} partitions. */
  public <W> PairDStream<K, KV<V, Optional<W>>> leftOuterJoin(
      DStream<KV<K, W>> other, int numPartitions) {
    Partitioner p = new HashPartitioner(numPartitions);
    return binary("leftOuterJoin", other, (a, b) -> a.leftOuterJoin(b, p));
  }

  /** Per batch, for each key the values of both streams' batches. */
  public <W> PairDStream<K, KV<List<V>, List<W>>> cogroup(DStream<KV<K, W>> other) {
    return cogroup(other, defaultPartitions());
  }

  /** As {@link #cogroup(DStream)} into {@code numPartitions} partitions. */
  public <W> PairDStream<K, KV<List<V>, List<W>>> cogroup(
      DStream<KV<K, W>> other, int numPartitions) {
    Partitioner p = new HashPartitioner(numPartitions);
    return binary("cogroup", other, (a, b) -> a.cogroup(b, p));
  }

  private <W, R> PairDStream<K, R> binary(
      String kind,
      DStream<KV<K, W>> other,
      Function2<PairRDD<K, V>, RDD<KV<K, W>>, RDD<KV<K, R>>> f) {
    Objects.requireNonNull(other, "other");
    return PairDStream.of(
        TransformedDStream.binary(this, other, kind, (a, b, t) -> f.call(PairRDD.of(a), b)));
  }

  // ---------------------------------------------------------------- keyed windows

  /** Every batch, each key's values over the last {@code length} reduced with {@code f}. */
  public PairDStream<K, V> reduceByKeyAndWindow(Function2<V, V, V> f, Duration length) {
    return reduceByKeyAndWindow(f, length, context().batchInterval());
  }

  /** Every {@code slide}, each key's values over the last {@code length} reduced with {@code f}. */
  public PairDStream<K, V> reduceByKeyAndWindow(
      Function2<V, V, V> f, Duration length, Duration slide) {
    return reduceByKeyAndWindow(f, length, slide, defaultPartitions());
  }

  /**
   * As {@link #reduceByKeyAndWindow(Function2, Duration, Duration)} into {@code numPartitions}
   * partitions.
   */
  public PairDStream<K, V> reduceByKeyAndWindow(
      Function2<V, V, V> f, Duration length, Duration slide, int numPartitions) {
    Objects.requireNonNull(f, "f");
    return reduceByKey(f, numPartitions)
        .window(length, slide)
        .transformToPair(rdd -> PairRDD.of(rdd).reduceByKey(f, numPartitions));
  }

  /**
   * Incremental form: the previous window's values, plus the entering batches reduced with {@code
   * f}, minus the leaving batches with {@code inverse}. A key whose every contribution has left the
   * window is removed, so the results equal those of the plain form when {@code inverse} undoes
   * {@code f}.
   */
  public PairDStream<K, V> reduceByKeyAndWindow(
      Function2<V, V, V> f, Function2<V, V, V> inverse, Duration length, Duration slide) {
    return reduceByKeyAndWindow(f, inverse, length, slide, defaultPartitions());
  }

  /**
   * As {@link #reduceByKeyAndWindow(Function2, Function2, Duration, Duration)} into {@code
   * numPartitions}.
   */
  public PairDStream<K, V> reduceByKeyAndWindow(
      Function2<V, V, V> f,
      Function2<V, V, V> inverse,
      Duration length,
      Duration slide,
      int numPartitions) {
    Objects.requireNonNull(f, "f");
    Objects.requireNonNull(inverse, "inverse");
    return ReducedWindowedDStream.create(
        reduceByKey(f, numPartitions),
        f,
        inverse,
        length,
        slide,
        new HashPartitioner(numPartitions));
  }

  /** Every {@code slide}, each key's values over the last {@code length}. */
  public PairDStream<K, List<V>> groupByKeyAndWindow(Duration length, Duration slide) {
    return groupByKeyAndWindow(length, slide, defaultPartitions());
  }

  /** As {@link #groupByKeyAndWindow(Duration, Duration)} into {@code numPartitions} partitions. */
  public PairDStream<K, List<V>> groupByKeyAndWindow(
      Duration length, Duration slide, int numPartitions) {
    return PairDStream.of(window(length, slide)).groupByKey(numPartitions);
  }

  private int defaultPartitions() {
    return context().parallelism();
  }

  // ---------------------------------------------------------------- state

  /**
   * A running state per key: every batch calls {@code update(values, state)} for each key that has
   * values in the batch or a state (with an empty list when it has no values), as Spark does; an
   * empty result removes the key. The stream holds every key's state after each batch. The state is
   * kept in memory, and under the checkpoint directory when there is one, one version per batch,
   * committed exactly when the batch commits: after a crash it equals what the committed input
   * offsets imply. Each batch touches the whole state; see {@link #mapWithState} for a state that
   * costs in proportion to the keys a batch touches. The state's partitions hash keys over the
   * context's parallelism.
   */
  public <S> PairDStream<K, S> updateStateByKey(
      Function2<List<V>, Optional<S>, Optional<S>> update) {
    return updateStateByKey(update, defaultPartitions());
  }

  /** As {@link #updateStateByKey(Function2)} with {@code numPartitions} state partitions. */
  public <S> PairDStream<K, S> updateStateByKey(
      Function2<List<V>, Optional<S>, Optional<S>> update, int numPartitions) {
    return updateStateByKey(update, new HashPartitioner(numPartitions));
  }

  /**
   * As {@link #updateStateByKey(Function2)} with keys assigned to state partitions by {@code p}.
   */
  public <S> PairDStream<K, S> updateStateByKey(
      Function2<List<V>, Optional<S>, Optional<S>> update, Partitioner p) {
    return updateStateByKey(update, p, null);
  }

  /**
   * As {@link #updateStateByKey(Function2, Partitioner)}, starting from {@code initial} when the
   * operator has no state yet.
   */
  public <S> PairDStream<K, S> updateStateByKey(
      Function2<List<V>, Optional<S>, Optional<S>> update, Partitioner p, RDD<KV<K, S>> initial) {
    Objects.requireNonNull(update, "update");
    Objects.requireNonNull(p, "partitioner");
    return PairDStream.of(new UpdateStateByKeyDStream<>(this, update, p, initial));
  }

  /**
   * A state per key kept by a mapping function called for every record, and once more for a key
   * whose timeout passed; the stream holds the function's results. A batch costs in proportion to
   * its records and the keys timing out, not to the state's size. Durable and exactly-once like
   * {@link #updateStateByKey(Function2)}; see {@link StateSpec}.
   */
  public <S, M> MapWithStateDStream<K, V, S, M> mapWithState(StateSpec<K, V, S, M> spec) {
    Objects.requireNonNull(spec, "spec");
    return new MapWithStateDStreamImpl<>(this, spec);
  }
}
