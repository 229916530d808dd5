package io.sluice.engine.dstream;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.internal.OutputOperation;
import io.sluice.engine.dstream.internal.Outputs;
import io.sluice.engine.dstream.internal.TransformedDStream;
import io.sluice.engine.dstream.internal.WindowedDStream;
import io.sluice.engine.function.FlatMapFunction;
import io.sluice.engine.function.Function;
import io.sluice.engine.function.Function2;
import io.sluice.engine.function.PairFunction;
import io.sluice.engine.function.VoidFunction;
import io.sluice.engine.function.VoidFunction2;
import io.sluice.engine.internal.DStreamAccess;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.Fn;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A discretized stream: a template that the engine instantiates into one {@link RDD} per batch time
 * (per slide, for windowed streams). Operators are built on the application thread before {@link
 * StreamingContext#start()}; adding operators afterwards fails.
 *
 * <p>Each operator has a stable name, by default its kind and creation index ({@code map-3}),
 * overridable with {@link #name(String)}; checkpoints match operators by name, so give names to
 * operators whose state must survive code changes. Transformations are lazy; output operations
 * ({@link #foreachBatch}, {@link #print()}, {@link #saveAsTextFiles}) each run one job per batch,
 * in registration order.
 *
 * <p>Engine methods ({@link #rddAt(Instant)}, {@link #compute(Instant)}) run on the {@code
 * sluice-job-generator} thread only; so do functions given to {@code transform}.
 *
 * @param <T> element type
 */
public abstract class DStream<T> {

  static {
    DStreamAccess.install(new Access());
  }

  private final StreamingContext context;
  private final DStream<?> viewOf;
  private String name;
  // Written by the job generator thread; a cached stream's batchDone reads it on the scheduler's.
  private final NavigableMap<Instant, RDD<T>> generated = new ConcurrentSkipListMap<>();
  private Instant zeroTime;
  private Duration rememberDuration = Duration.ZERO;
  private volatile boolean cached;
  // RDDs of a cached stream that no window needs any more, kept until their batch has run.
  private final NavigableMap<Instant, RDD<T>> releasing = new TreeMap<>(); // guarded by itself
  private Instant lastBatchDone; // guarded by releasing

  /**
   * Creates an operator of {@code context} and registers it with the context's graph under the
   * default name {@code kind-<index>}.
   *
   * @throws IllegalStateException if the context is already started or stopped
   */
  protected DStream(StreamingContext context, String kind) {
    this.context = Objects.requireNonNull(context, "context");
    this.viewOf = null;
    this.name = EngineAccess.runtime(context).graph().register(this, kind);
  }

  /** A view over {@code of}: same RDDs, same name, not registered itself. */
  DStream(DStream<?> of) {
    this.context = of.context;
    this.viewOf = of;
    this.name = null;
  }

  /** The context this stream belongs to. */
  public final StreamingContext context() {
    return context;
  }

  /** The operator's stable name. */
  public String name() {
    return viewOf != null ? viewOf.name() : name;
  }

  /**
   * Renames the operator (before start). Names must be unique within the context; duplicates are
   * refused at {@link StreamingContext#start()}.
   *
   * @return this stream
   */
  public DStream<T> name(String newName) {
    if (newName == null || newName.isBlank()) {
      throw new IllegalArgumentException("name must not be blank, was '" + newName + "'");
    }
    EngineAccess.runtime(context).graph().requireModifiable("rename operator " + name());
    if (viewOf != null) {
      viewOf.name(newName);
    } else {
      this.name = newName;
    }
    return this;
  }

  /** The streams this one reads. */
  public abstract List<DStream<?>> dependencies();

  /** How often this stream produces an RDD: the batch interval, or a window's slide. */
  public Duration slideDuration() {
    List<DStream<?>> deps = dependencies();
    if (deps.isEmpty()) {
      return context.batchInterval();
    }
    return deps.get(0).slideDuration();
  }

  /**
   * The RDD of batch time {@code time}, computed once and remembered while a window may need it;
   * empty when {@code time} is not a valid time of this stream (not a multiple of its slide after
   * the start, or before the start). Engine use: job generator thread only.
   */
  public Optional<RDD<T>> rddAt(Instant time) {
    if (viewOf != null) {
      return compute(time);
    }
    if (zeroTime == null
        || !time.isAfter(zeroTime)
        || Duration.between(zeroTime, time).toMillis() % slideDuration().toMillis() != 0) {
      return Optional.empty();
    }
    RDD<T> rdd = generated.get(time);
    if (rdd != null) {
      return Optional.of(rdd);
    }
    Optional<RDD<T>> computed = compute(time);
    computed.ifPresent(r -> remember(time, r));
    return computed;
  }

  private void remember(Instant time, RDD<T> rdd) {
    if (cached) {
      rdd.cache();
    }
    generated.put(time, rdd);
  }

  /**
   * Keeps every batch's RDD of this stream in memory once computed (see {@link RDD#cache()}), so
   * that several output operations, or windows, read it once: for an input, its source is read once
   * per batch. The engine releases a batch's RDD when the batch's output operations are done and no
   * window needs it any more. Before start.
   *
   * @return this stream
   * @throws IllegalStateException after start
   */
  public DStream<T> cache() {
    if (viewOf != null) {
      viewOf.cache();
      return this;
    }
    EngineAccess.runtime(context).graph().requireModifiable("cache operator " + name());
    cached = true;
    return this;
  }

  /** The same as {@link #cache()}: Sluice keeps persisted RDDs in memory only. */
  public DStream<T> persist() {
    return cache();
  }

  /** Whether this stream's RDDs are cached (see {@link #cache()}). */
  public boolean isCached() {
    return viewOf != null ? viewOf.isCached() : cached;
  }

  private void forget(Instant before) {
    NavigableMap<Instant, RDD<T>> old = generated.headMap(before, false);
    if (cached) {
      synchronized (releasing) {
        releasing.putAll(old);
        releaseDone();
      }
    }
    old.clear();
  }

  private void batchDone(Instant time) {
    if (!cached) {
      return;
    }
    synchronized (releasing) {
      if (lastBatchDone == null || time.isAfter(lastBatchDone)) {
        lastBatchDone = time;
      }
      releaseDone();
    }
    // Still remembered, but no window reaches back to them any more.
    generated.headMap(time.minus(rememberDuration), true).values().forEach(RDD::unpersist);
  }

  private void releaseDone() {
    if (lastBatchDone != null) {
      NavigableMap<Instant, RDD<T>> done = releasing.headMap(lastBatchDone, true);
      done.values().forEach(RDD::unpersist);
      done.clear();
    }
  }

  /**
   * Builds this stream's RDD for a valid {@code time} from its parents' RDDs. Job generator thread.
   */
  protected abstract Optional<RDD<T>> compute(Instant time);

  /**
   * Checks this operator's durations when the context starts.
   *
   * @throws IllegalArgumentException naming the operator and the durations when they are invalid
   */
  protected void validate(Duration batchInterval) {
    Duration slide = slideDuration();
    for (DStream<?> d : dependencies()) {
      if (!d.slideDuration().equals(slide)) {
        throw new IllegalArgumentException(
            "operator '"
                + name()
                + "' combines streams with different"
                + " slide durations: "
                + slide
                + " and "
                + d.slideDuration()
                + " (of '"
                + d.name()
                + "')");
      }
    }
  }

  /** The least this stream itself must remember (e.g. its previous window). */
  protected Duration minRememberDuration() {
    return Duration.ZERO;
  }

  /** How far back the parents must remember, given that this stream remembers {@code own}. */
  protected Duration parentRememberDuration(Duration own) {
    return own;
  }

  // ---------------------------------------------------------------- transformations

  /** Applies {@code f} to each element. */
  public <U> DStream<U> map(Function<T, U> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "map", (rdd, t) -> rdd.map(f));
  }

  /** Applies {@code f} to each element and flattens the results. */
  public <U> DStream<U> flatMap(FlatMapFunction<T, U> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "flatMap", (rdd, t) -> rdd.flatMap(f));
  }

  /** Keeps the elements for which {@code f} is true. */
  public DStream<T> filter(Function<T, Boolean> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "filter", (rdd, t) -> rdd.filter(f));
  }

  /** Applies {@code f} to each partition's iterator. */
  public <U> DStream<U> mapPartitions(FlatMapFunction<Iterator<T>, U> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "mapPartitions", (rdd, t) -> rdd.mapPartitions(f));
  }

  /** Maps each element to a pair. */
  public <K, V> PairDStream<K, V> mapToPair(PairFunction<T, K, V> f) {
    Objects.requireNonNull(f, "f");
    return PairDStream.of(
        new TransformedDStream<T, KV<K, V>>(this, "mapToPair", (rdd, t) -> rdd.mapToPair(f)));
  }

  /** Applies an arbitrary RDD-to-RDD function to each batch's RDD (on the job generator thread). */
  public <U> DStream<U> transform(Function<RDD<T>, RDD<U>> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "transform", (rdd, t) -> Fn.call(f, rdd));
  }

  /** Applies an RDD-to-RDD function given the batch time (on the job generator thread). */
  public <U> DStream<U> transform(Function2<RDD<T>, Instant, RDD<U>> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "transform", (rdd, t) -> Fn.call(f, rdd, t));
  }

  /** As {@link #transform(Function)}, producing pairs. */
  public <K, V> PairDStream<K, V> transformToPair(Function<RDD<T>, RDD<KV<K, V>>> f) {
    Objects.requireNonNull(f, "f");
    return PairDStream.of(
        new TransformedDStream<T, KV<K, V>>(this, "transformToPair", (rdd, t) -> Fn.call(f, rdd)));
  }

  /** The elements of this stream and of {@code other} (same slide duration required). */
  public DStream<T> union(DStream<T> other) {
    Objects.requireNonNull(other, "other");
    return TransformedDStream.union(this, other);
  }

  /** Redistributes each batch over {@code numPartitions} partitions (a shuffle). */
  public DStream<T> repartition(int numPartitions) {
    if (numPartitions <= 0) {
      throw new IllegalArgumentException("numPartitions must be > 0, was " + numPartitions);
    }
    return new TransformedDStream<>(
        this, "repartition", (rdd, t) -> rdd.repartition(numPartitions));
  }

  /** One element per batch: the number of elements of the batch (0 for an empty batch). */
  public DStream<Long> count() {
    return new TransformedDStream<>(this, "count", (rdd, t) -> countRdd(rdd));
  }

  /** For each distinct element, how many times it occurs in the batch. */
  public PairDStream<T, Long> countByValue() {
    return mapToPair(x -> KV.of(x, 1L)).reduceByKey(Long::sum);
  }

  /**
   * At most one element per batch: all elements reduced with {@code f}; nothing for an empty batch.
   */
  public DStream<T> reduce(Function2<T, T, T> f) {
    Objects.requireNonNull(f, "f");
    return new TransformedDStream<>(this, "reduce", (rdd, t) -> reduceRdd(rdd, f));
  }

  // ---------------------------------------------------------------- windows

  /** A window over the last {@code length} of batches, sliding every batch. */
  public DStream<T> window(Duration length) {
    return window(length, context.batchInterval());
  }

  /**
   * Every {@code slide}, the elements of the last {@code length}. Both must be multiples of this
   * stream's slide duration (checked at start).
   */
  public DStream<T> window(Duration length, Duration slide) {
    return new WindowedDStream<>(this, length, slide);
  }

  /**
   * Every {@code slide}, the reduction of the last {@code length}; nothing when the window is
   * empty.
   */
  public DStream<T> reduceByWindow(Function2<T, T, T> f, Duration length, Duration slide) {
    return window(length, slide).reduce(f);
  }

  /**
   * As {@link #reduceByWindow(Function2, Duration, Duration)}, computed incrementally: the previous
   * window's value, plus the batches entering reduced with {@code f}, minus the batches leaving
   * with {@code inverse}. Same results when {@code inverse} undoes {@code f}.
   */
  public DStream<T> reduceByWindow(
      Function2<T, T, T> f, Function2<T, T, T> inverse, Duration length, Duration slide) {
    return mapToPair(x -> KV.of(Boolean.TRUE, x))
        .reduceByKeyAndWindow(f, inverse, length, slide, 1)
        .map(KV::value);
  }

  /**
   * Every {@code slide}, the number of elements of the last {@code length} (one element, maybe 0).
   */
  public DStream<Long> countByWindow(Duration length, Duration slide) {
    return window(length, slide).count();
  }

  /** Every {@code slide}, how many times each element occurs in the last {@code length}. */
  public PairDStream<T, Long> countByValueAndWindow(Duration length, Duration slide) {
    return mapToPair(x -> KV.of(x, 1L))
        .reduceByKeyAndWindow(Long::sum, (a, b) -> a - b, length, slide);
  }

  // ---------------------------------------------------------------- output operations

  /** Prints the first 10 elements of every batch; see {@link #print(int)}. */
  public void print() {
    print(10);
  }

  /**
   * Prints to standard output, per batch, a header with {@code Time: <epoch ms> ms}, then up to
   * {@code n} elements, one per line, then {@code ...} when there are more.
   */
  public void print(int n) {
    print(n, System.out);
  }

  /** As {@link #print(int)}, to {@code out}. */
  public void print(int n, PrintStream out) {
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0, was " + n);
    }
    Objects.requireNonNull(out, "out");
    Outputs.register(this, "print", (rdd, batch) -> Outputs.print(rdd, batch, n, out));
  }

  /**
   * Runs {@code f} for every batch on the job thread, with the batch's RDD and the {@link Batch}
   * (id, time, input plans). Actions on the RDD run on the task slots. An exception fails the batch
   * (output operations of the batch that have not started yet are skipped).
   */
  public void foreachBatch(VoidFunction2<RDD<T>, Batch> f) {
    Objects.requireNonNull(f, "f");
    Outputs.register(this, "foreachBatch", f);
  }

  /** As {@link #foreachBatch(VoidFunction2)}, with an explicit stable output-operation name. */
  public void foreachBatch(String outputName, VoidFunction2<RDD<T>, Batch> f) {
    Objects.requireNonNull(f, "f");
    if (outputName == null || outputName.isBlank()) {
      throw new IllegalArgumentException("outputName must not be blank, was '" + outputName + "'");
    }
    Outputs.registerNamed(this, outputName, f);
  }

  /**
   * Registers {@code output} as an output operation named {@code <output.describe()>-<index>}:
   * every batch calls {@link BatchOutput#write(RDD, Batch)} on the job thread. {@link
   * BatchOutput#open} runs at {@link StreamingContext#start()}, {@link BatchOutput#close()} when
   * the context stops.
   */
  public void writeTo(BatchOutput<T> output) {
    Objects.requireNonNull(output, "output");
    String[] name = new String[1];
    OutputOperation<T> op =
        Outputs.register(
            this,
            output.describe(),
            (rdd, batch) ->
                output.write(rdd, EngineAccess.runtime(context).batchFor(name[0], batch)));
    name[0] = op.name();
    EngineAccess.runtime(context).graph().addBatchOutput(op.name(), output);
  }

  /** As {@link #foreachBatch(VoidFunction2)} without the batch (Spark's {@code foreachRDD}). */
  public void foreachRDD(VoidFunction<RDD<T>> f) {
    Objects.requireNonNull(f, "f");
    Outputs.register(this, "foreachRDD", (rdd, batch) -> f.call(rdd));
  }

  /**
   * Writes each batch as text files ({@code String.valueOf} of each element, one per line, one
   * {@code part-NNNNN} file per partition) into the directory {@code <prefix>-<batch time
   * ms>[.<suffix>]}. The directory is written under a temporary name and renamed atomically when
   * complete; a batch whose directory exists already (a replay) is not written again.
   */
  public void saveAsTextFiles(String prefix, String suffix) {
    Objects.requireNonNull(prefix, "prefix");
    Outputs.register(
        this, "saveAsTextFiles", (rdd, batch) -> Outputs.saveAsText(rdd, batch, prefix, suffix));
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + name() + "]";
  }

  // ---------------------------------------------------------------- helpers

  private static <T> RDD<Long> countRdd(RDD<T> rdd) {
    return rdd.mapPartitions(
            it -> {
              long c = 0;
              while (it.hasNext()) {
                it.next();
                c++;
              }
              return List.of(c).iterator();
            })
        .coalesce(1)
        .mapPartitions(
            it -> {
              long sum = 0;
              while (it.hasNext()) {
                sum += it.next();
              }
              return List.of(sum).iterator();
            });
  }

  private static <T> RDD<T> reduceRdd(RDD<T> rdd, Function2<T, T, T> f) {
    FlatMapFunction<Iterator<T>, T> local =
        it -> {
          if (!it.hasNext()) {
            return Collections.emptyIterator();
          }
          T acc = it.next();
          while (it.hasNext()) {
            acc = f.call(acc, it.next());
          }
          return Collections.singletonList(acc).iterator();
        };
    return rdd.mapPartitions(local).coalesce(1).mapPartitions(local);
  }

  private static final class Access implements DStreamAccess {
    @Override
    public void initialize(DStream<?> stream, Instant zeroTime) {
      stream.zeroTime = zeroTime;
      stream.generated.clear();
    }

    @Override
    public void validate(DStream<?> stream, Duration batchInterval) {
      stream.validate(batchInterval);
    }

    @Override
    public void remember(DStream<?> stream, Duration duration) {
      Duration wanted =
          duration.compareTo(stream.minRememberDuration()) >= 0
              ? duration
              : stream.minRememberDuration();
      if (wanted.compareTo(stream.rememberDuration) > 0) {
        stream.rememberDuration = wanted;
      }
      Duration parents = stream.parentRememberDuration(stream.rememberDuration);
      for (DStream<?> d : stream.dependencies()) {
        remember(d, parents);
      }
    }

    @Override
    public Duration rememberDuration(DStream<?> stream) {
      return stream.rememberDuration;
    }

    @Override
    public void clearOld(DStream<?> stream, Instant time) {
      stream.forget(time.minus(stream.rememberDuration));
    }

    @Override
    public void batchDone(DStream<?> stream, Instant time) {
      stream.batchDone(time);
    }

    @Override
    public <P> void pastBatches(InputDStream<?, P> input, List<InputDStream.Planned<P>> batches) {
      TreeMap<Instant, InputDStream.Planned<P>> byTime = new TreeMap<>();
      batches.forEach(b -> byTime.put(b.time(), b));
      input.pastBatches = byTime;
    }

    @Override
    public List<Instant> rememberedTimes(DStream<?> stream) {
      return List.copyOf(stream.generated.keySet());
    }

    @Override
    public <T> void put(DStream<T> stream, Instant time, RDD<T> rdd) {
      stream.remember(time, rdd);
    }

    @Override
    public boolean isView(DStream<?> stream) {
      return stream.viewOf != null;
    }
  }
}
