package io.sluice.engine.internal;

import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;

/**
 * The graph's view of a DStream's per-run state (zero time, remembered RDDs), installed by {@link
 * DStream}'s static initializer so that these stay out of the public API.
 */
public interface DStreamAccess {

  /** Sets the time before the first batch; RDDs exist only at zero time + k * slide, k >= 1. */
  void initialize(DStream<?> stream, Instant zeroTime);

  /** Checks the stream's durations against the batch interval; throws IllegalArgumentException. */
  void validate(DStream<?> stream, Duration batchInterval);

  /**
   * Makes the stream and, recursively, its parents remember RDDs at least {@code duration} back.
   */
  void remember(DStream<?> stream, Duration duration);

  /** How far back the stream remembers. */
  Duration rememberDuration(DStream<?> stream);

  /** Forgets remembered RDDs older than its remember duration before {@code time}. */
  void clearOld(DStream<?> stream, Instant time);

  /**
   * The output operations of the batch at {@code time} are done: a cached stream releases the RDDs
   * up to it that no window needs. Job scheduler thread.
   */
  void batchDone(DStream<?> stream, Instant time);

  /**
   * Gives {@code input} the committed batches before a restart that windows may read again (see
   * {@link InputDStream#pastBatches}).
   */
  <P> void pastBatches(InputDStream<?, P> input, java.util.List<InputDStream.Planned<P>> batches);

  /** The times of the RDDs the stream remembers, oldest first. */
  java.util.List<Instant> rememberedTimes(DStream<?> stream);

  /** Stores an input's RDD for {@code time}. */
  <T> void put(DStream<T> stream, Instant time, RDD<T> rdd);

  /** Whether the stream is a view sharing another stream's RDDs (not registered in the graph). */
  boolean isView(DStream<?> stream);

  /** The installed accessor. */
  static DStreamAccess get() {
    DStreamAccess a = Holder.instance;
    if (a == null) {
      try {
        Class.forName(DStream.class.getName(), true, DStream.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      a = Holder.instance;
    }
    return a;
  }

  /** Installs the accessor; called once by DStream. */
  static void install(DStreamAccess a) {
    Holder.instance = a;
  }

  /** Holds the accessor. */
  final class Holder {
    private static volatile DStreamAccess instance;

    private Holder() {}
  }
}
