package io.sluice.engine.dstream.internal;

import io.sluice.engine.dstream.DStream;
import io.sluice.engine.function.Function2;
import io.sluice.engine.rdd.RDD;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** An operator computing its RDD from its parents' RDDs of the same time. */
public final class TransformedDStream<T, U> extends DStream<U> {

  /** Builds the RDD from the parents' RDDs. */
  @FunctionalInterface
  public interface Body<U> {
    /** Computes the child RDD. */
    RDD<U> apply(List<RDD<?>> parents, Instant time) throws Exception;
  }

  /** Builds the child RDD from two parents' RDDs. */
  @FunctionalInterface
  public interface BinaryBody<A, B, U> {
    /** Computes the child RDD. */
    RDD<U> apply(RDD<A> a, RDD<B> b, Instant time) throws Exception;
  }

  private final List<DStream<?>> parents;
  private final Body<U> body;
  private final String kind;

  private TransformedDStream(List<DStream<?>> parents, String kind, Body<U> body) {
    super(parents.get(0).context(), kind);
    this.kind = kind;
    this.parents = List.copyOf(parents);
    this.body = body;
  }

  /** A one-parent transformation. */
  @SuppressWarnings("unchecked")
  public TransformedDStream(DStream<T> parent, String kind, Function2<RDD<T>, Instant, RDD<U>> f) {
    this(List.of(parent), kind, (rdds, t) -> f.call((RDD<T>) rdds.get(0), t));
  }

  /** A two-parent transformation. */
  @SuppressWarnings("unchecked")
  public static <A, B, U> TransformedDStream<A, U> binary(
      DStream<A> a, DStream<B> b, String kind, BinaryBody<A, B, U> f) {
    requireSameContext(a, b);
    return new TransformedDStream<>(
        List.of(a, b), kind, (rdds, t) -> f.apply((RDD<A>) rdds.get(0), (RDD<B>) rdds.get(1), t));
  }

  /** The union of two streams. */
  @SuppressWarnings("unchecked")
  public static <T> TransformedDStream<T, T> union(DStream<T> a, DStream<T> b) {
    requireSameContext(a, b);
    return new TransformedDStream<>(
        List.of(a, b), "union", (rdds, t) -> ((RDD<T>) rdds.get(0)).union((RDD<T>) rdds.get(1)));
  }

  private static void requireSameContext(DStream<?> a, DStream<?> b) {
    if (a.context() != b.context()) {
      throw new IllegalArgumentException(
          "streams '" + a.name() + "' and '" + b.name() + "' belong to different contexts");
    }
  }

  /** The operation, e.g. {@code map} or {@code reduceByKey}, whatever the stream is named. */
  public String kind() {
    return kind;
  }

  @Override
  public List<DStream<?>> dependencies() {
    return parents;
  }

  @Override
  protected Optional<RDD<U>> compute(Instant time) {
    RDD<?>[] rdds = new RDD<?>[parents.size()];
    for (int i = 0; i < rdds.length; i++) {
      Optional<? extends RDD<?>> r = parents.get(i).rddAt(time);
      if (r.isEmpty()) {
        return Optional.empty();
      }
      rdds[i] = r.get();
    }
    try {
      return Optional.of(body.apply(List.of(rdds), time));
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new io.sluice.engine.UserCodeException(e);
    }
  }
}
