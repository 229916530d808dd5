package io.sluice.engine.dstream.internal;

import io.sluice.engine.dstream.DStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.internal.ParallelCollectionRDD;
import io.sluice.engine.rdd.internal.UnionRDD;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Every slide, the union of the parent's RDDs of the last window length. */
public final class WindowedDStream<T> extends DStream<T> {

  private final DStream<T> parent;
  private final Duration length;
  private final Duration slide;

  /** A window over {@code parent}; durations are checked at start. */
  public WindowedDStream(DStream<T> parent, Duration length, Duration slide) {
    super(parent.context(), "window");
    this.parent = parent;
    this.length = Objects.requireNonNull(length, "length");
    this.slide = Objects.requireNonNull(slide, "slide");
  }

  @Override
  public List<DStream<?>> dependencies() {
    return List.of(parent);
  }

  @Override
  public Duration slideDuration() {
    return slide;
  }

  @Override
  protected void validate(Duration batchInterval) {
    Durations.requireWindow(name(), length, slide, batchInterval, parent.slideDuration());
  }

  @Override
  protected Duration parentRememberDuration(Duration own) {
    return own.plus(length);
  }

  @Override
  protected Optional<RDD<T>> compute(Instant time) {
    return Optional.of(unionOf(parent, time.minus(length), time));
  }

  /**
   * The union of {@code stream}'s RDDs at times in {@code (from, until]}; an empty RDD when none.
   */
  static <T> RDD<T> unionOf(DStream<T> stream, Instant from, Instant until) {
    Duration step = stream.slideDuration();
    List<RDD<T>> rdds = new ArrayList<>();
    for (Instant t = until; t.isAfter(from); t = t.minus(step)) {
      stream.rddAt(t).ifPresent(rdds::add);
    }
    java.util.Collections.reverse(rdds);
    if (rdds.isEmpty()) {
      return new ParallelCollectionRDD<>(stream.context(), List.of(), 0);
    }
    return rdds.size() == 1 ? rdds.get(0) : new UnionRDD<>(stream.context(), rdds);
  }
}
