package io.sluice.engine.rdd;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.function.FlatMapFunction;
import io.sluice.engine.function.Function;
import io.sluice.engine.function.Function2;
import io.sluice.engine.function.PairFunction;
import io.sluice.engine.function.VoidFunction;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.internal.CoalescedRDD;
import io.sluice.engine.rdd.internal.Fn;
import io.sluice.engine.rdd.internal.MapPartitionsRDD;
import io.sluice.engine.rdd.internal.PartitionCache;
import io.sluice.engine.rdd.internal.ShuffledRDD;
import io.sluice.engine.rdd.internal.UnionRDD;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An immutable, partitioned, lazily computed collection: Sluice's unit of work for one batch.
 *
 * <p>Subclasses (e.g. an input's RDD in another module) implement {@link #numPartitions()} and
 * {@link #compute(int, TaskContext)}; a source RDD has no {@link #dependencies()}. Transformations
 * build new RDDs without running anything; actions ({@link #collect()}, {@link #count()}, {@link
 * #take(int)}, {@link #foreachPartition(VoidFunction)} ...) run a job on the context's task slots
 * and block the calling thread until it ends. Narrow transformations fuse into one task per
 * partition (iterators pull through the chain); a shuffle is a stage boundary. A failed task is
 * re-run from its lineage up to {@code maxTaskAttempts}, so {@code compute} must be repeatable for
 * the same partition.
 *
 * @param <T> element type
 */
public abstract class RDD<T> {

  private static final AtomicInteger NEXT_ID = new AtomicInteger();

  private final StreamingContext context;
  private final int id = NEXT_ID.getAndIncrement();
  private volatile PartitionCache<T> cache;

  /**
   * Creates an RDD of {@code context}; its actions run on that context's task slots.
   *
   * @throws NullPointerException if {@code context} is null
   */
  protected RDD(StreamingContext context) {
    this.context = Objects.requireNonNull(context, "context");
  }

  /** The context whose task slots run this RDD's jobs. */
  public final StreamingContext context() {
    return context;
  }

  /** An id unique in this JVM, for logs. */
  public final int id() {
    return id;
  }

  /** The number of partitions, >= 0; fixed for the RDD's life. */
  public abstract int numPartitions();

  /** The parents this RDD reads; empty for a source RDD. */
  public List<Dependency> dependencies() {
    return List.of();
  }

  /**
   * Computes one partition as a pull iterator. Called on a task thread, possibly several times for
   * the same partition (retries, several jobs); each call must yield the same elements.
   *
   * @param partition the partition, in {@code [0, numPartitions())}
   * @param ctx the running task
   */
  public abstract Iterator<T> compute(int partition, TaskContext ctx);

  /**
   * The elements of one partition: from memory when this RDD is {@link #cache() cached} and the
   * partition was computed before, else {@link #compute computed}. Tasks and RDDs reading a parent
   * call this, not {@code compute}. Task thread.
   */
  public final Iterator<T> iterator(int partition, TaskContext ctx) {
    PartitionCache<T> kept = cache;
    return kept == null
        ? compute(partition, ctx)
        : kept.get(partition, () -> compute(partition, ctx));
  }

  /**
   * Keeps each partition in memory the first time a job computes it, so that later jobs and actions
   * on this RDD, or on RDDs derived from it, read it from memory instead of computing its lineage
   * again (for an input's RDD: instead of reading its source again). Memory only, as the elements
   * themselves; a partition whose computation fails is not kept. Kept until {@link #unpersist()}. A
   * batch's RDDs from a {@link io.sluice.engine.dstream.DStream#cache() cached stream} are released
   * by the engine. Idempotent.
   *
   * @return this RDD
   */
  public RDD<T> cache() {
    synchronized (this) {
      if (cache == null) {
        cache = new PartitionCache<>(numPartitions());
      }
    }
    return this;
  }

  /** The same as {@link #cache()}: Sluice keeps persisted partitions in memory only. */
  public RDD<T> persist() {
    return cache();
  }

  /**
   * Releases the partitions kept in memory; later jobs compute them again. Jobs already reading
   * them are not affected. Idempotent.
   *
   * @return this RDD
   */
  public RDD<T> unpersist() {
    cache = null;
    return this;
  }

  /** Whether this RDD is cached (see {@link #cache()}). */
  public boolean isCached() {
    return cache != null;
  }

  // ---------------------------------------------------------------- narrow transformations

  /** Applies {@code f} to each element. */
  public <U> RDD<U> map(Function<T, U> f) {
    Objects.requireNonNull(f, "f");
    return new MapPartitionsRDD<T, U>(this, (p, it, tc) -> Fn.map(it, f));
  }

  /** Applies {@code f} to each element and flattens the results. */
  public <U> RDD<U> flatMap(FlatMapFunction<T, U> f) {
    Objects.requireNonNull(f, "f");
    return new MapPartitionsRDD<T, U>(this, (p, it, tc) -> Fn.flatMap(it, f));
  }

  /** Keeps the elements for which {@code f} returns true. */
  public RDD<T> filter(Function<T, Boolean> f) {
    Objects.requireNonNull(f, "f");
    return new MapPartitionsRDD<T, T>(this, (p, it, tc) -> Fn.filter(it, f));
  }

  /** Applies {@code f} to each partition's iterator. */
  public <U> RDD<U> mapPartitions(FlatMapFunction<Iterator<T>, U> f) {
    Objects.requireNonNull(f, "f");
    return new MapPartitionsRDD<T, U>(this, (p, it, tc) -> Fn.flat(f, it));
  }

  /** Applies {@code f} to each partition's index and iterator. */
  public <U> RDD<U> mapPartitionsWithIndex(Function2<Integer, Iterator<T>, Iterator<U>> f) {
    Objects.requireNonNull(f, "f");
    return new MapPartitionsRDD<T, U>(
        this,
        (p, it, tc) -> {
          Iterator<U> out = Fn.call(f, p, it);
          return out == null ? java.util.Collections.emptyIterator() : out;
        });
  }

  /** Maps each element to a pair. */
  public <K, V> PairRDD<K, V> mapToPair(PairFunction<T, K, V> f) {
    Objects.requireNonNull(f, "f");
    return new PairRDD<>(
        new MapPartitionsRDD<T, KV<K, V>>(this, (p, it, tc) -> Fn.map(it, f::call)));
  }

  /** The elements of this RDD then of {@code other} (partitions concatenated, no shuffle). */
  public RDD<T> union(RDD<T> other) {
    return new UnionRDD<>(context, List.of(this, other));
  }

  /**
   * Merges contiguous partitions into {@code numPartitions} without a shuffle (never increases the
   * number of partitions, except that an RDD with no partitions yields one empty partition).
   */
  public RDD<T> coalesce(int numPartitions) {
    requirePositive("numPartitions", numPartitions);
    return new CoalescedRDD<>(this, numPartitions);
  }

  /** Redistributes the elements evenly over {@code numPartitions} partitions through a shuffle. */
  public RDD<T> repartition(int numPartitions) {
    requirePositive("numPartitions", numPartitions);
    RDD<KV<Integer, T>> keyed =
        new MapPartitionsRDD<T, KV<Integer, T>>(
            this,
            (p, it, tc) -> {
              int[] next = {p};
              return Fn.map(it, t -> KV.of(next[0]++ % numPartitions, t));
            });
    ShuffledRDD<Integer, T, T> shuffled =
        ShuffledRDD.plain(keyed, new HashPartitioner(numPartitions));
    return shuffled.map(KV::value);
  }

  // ---------------------------------------------------------------- actions

  /** Runs a job and returns every element, partition by partition. Blocks. */
  public List<T> collect() {
    List<List<T>> parts =
        runJob(
            (it, tc) -> {
              List<T> out = new ArrayList<>();
              it.forEachRemaining(out::add);
              return out;
            });
    List<T> all = new ArrayList<>();
    parts.forEach(all::addAll);
    return all;
  }

  /** Runs a job and returns the number of elements. Blocks. */
  public long count() {
    long total = 0;
    for (Long n :
        runJob(
            (it, tc) -> {
              long c = 0;
              while (it.hasNext()) {
                it.next();
                c++;
              }
              return c;
            })) {
      total += n;
    }
    return total;
  }

  /**
   * Runs a job and returns the first {@code n} elements in partition order (each task reads at most
   * n).
   */
  public List<T> take(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, was " + n);
    }
    List<T> all = new ArrayList<>();
    if (n == 0) {
      return all;
    }
    for (List<T> part :
        runJob(
            (it, tc) -> {
              List<T> out = new ArrayList<>();
              while (out.size() < n && it.hasNext()) {
                out.add(it.next());
              }
              return out;
            })) {
      for (T t : part) {
        if (all.size() == n) {
          return all;
        }
        all.add(t);
      }
    }
    return all;
  }

  /** Runs a job that reduces all elements with {@code f}; empty when there are none. Blocks. */
  public Optional<T> reduce(Function2<T, T, T> f) {
    Objects.requireNonNull(f, "f");
    List<Optional<T>> parts =
        runJob(
            (it, tc) -> {
              if (!it.hasNext()) {
                return Optional.<T>empty();
              }
              T acc = it.next();
              while (it.hasNext()) {
                acc = Fn.call(f, acc, it.next());
              }
              return Optional.of(acc);
            });
    Optional<T> result = Optional.empty();
    for (Optional<T> p : parts) {
      if (p.isPresent()) {
        result = result.isEmpty() ? p : Optional.of(Fn.call(f, result.get(), p.get()));
      }
    }
    return result;
  }

  /**
   * Runs a job calling {@code f} once per partition on a task thread ({@link TaskContext#current()}
   * gives the partition and attempt). A retried task calls {@code f} again for the same partition.
   * Blocks.
   */
  public void foreachPartition(VoidFunction<Iterator<T>> f) {
    Objects.requireNonNull(f, "f");
    runJob(
        (it, tc) -> {
          Fn.run(f, it);
          return Boolean.TRUE;
        });
  }

  /** Runs a job calling {@code f} for every element on task threads. Blocks. */
  public void foreach(VoidFunction<T> f) {
    Objects.requireNonNull(f, "f");
    foreachPartition(it -> it.forEachRemaining(t -> Fn.run(f, t)));
  }

  /**
   * Runs a job applying {@code f} to every partition and returns the results in partition order.
   * The primitive the other actions are built on. Blocks.
   */
  public <R> List<R> runJob(PartitionFunction<T, R> f) {
    return EngineAccess.runtime(context).tasks().runJob(this, f);
  }

  /**
   * Runs a job and hands every partition's elements to {@code consumer} on the calling thread, in
   * chunks of at most {@code chunkSize} elements, while the tasks are still computing: the action a
   * sink that owns a transaction on its job thread needs (the JDBC sink binds each chunk into one
   * JDBC batch). Chunks of one partition arrive in order; partitions interleave in completion
   * order.
   *
   * <p>Memory is bounded by the chunks, not the partitions: at most {@code maxQueuedChunks} chunks
   * wait for the consumer, and a task blocks (back-pressure) until the consumer takes one. A task
   * attempt that fails before handing over a chunk is retried as usual; once it handed one over,
   * its failure fails the job (a retry would hand the same elements over twice). A failure of the
   * consumer or of a task cancels the job — running tasks are interrupted, the others do nothing —
   * and is rethrown once no task of the job is running any more, so none outlives the caller's
   * transaction. Blocks.
   *
   * @throws Exception the consumer's failure, or the failure of a task after its attempts
   */
  public void consumePartitions(int chunkSize, int maxQueuedChunks, ChunkConsumer<T> consumer)
      throws Exception {
    Objects.requireNonNull(consumer, "consumer");
    EngineAccess.runtime(context).consumePartitions(this, chunkSize, maxQueuedChunks, consumer);
  }

  /**
   * Receives one chunk of a partition on the thread that called {@link #consumePartitions}.
   *
   * @param <T> element type
   */
  @FunctionalInterface
  public interface ChunkConsumer<T> {
    /**
     * Consumes up to {@code chunkSize} consecutive elements of {@code partition}; the list is the
     * consumer's.
     */
    void accept(int partition, List<T> chunk) throws Exception;
  }

  /**
   * A function of one partition's iterator, run on a task thread.
   *
   * @param <T> element type
   * @param <R> result type
   */
  @FunctionalInterface
  public interface PartitionFunction<T, R> {
    /** Computes the partition's result. */
    R apply(Iterator<T> partition, TaskContext ctx) throws Exception;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + id + ", " + numPartitions() + " partitions]";
  }

  static void requirePositive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, was " + value);
    }
  }
}
