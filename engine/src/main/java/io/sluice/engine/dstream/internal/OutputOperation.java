package io.sluice.engine.dstream.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.function.VoidFunction2;
import io.sluice.engine.rdd.RDD;
import java.util.Optional;

/**
 * An output operation: one job per batch (per slide of its stream) calling the function with the
 * RDD.
 *
 * @param <T> element type
 */
public final class OutputOperation<T> {

  private final DStream<T> stream;
  private final String name;
  private final int index;
  private final VoidFunction2<RDD<T>, Batch> function;

  OutputOperation(
      DStream<T> stream, String name, int index, VoidFunction2<RDD<T>, Batch> function) {
    this.stream = stream;
    this.name = name;
    this.index = index;
    this.function = function;
  }

  /** The stream it writes. */
  public DStream<T> stream() {
    return stream;
  }

  /** The stable name. */
  public String name() {
    return name;
  }

  /** Registration index. */
  public int index() {
    return index;
  }

  /**
   * The job for {@code batch}, if the stream has an RDD at the batch time. Job generator thread.
   */
  public Optional<Job> jobFor(Batch batch) {
    return stream.rddAt(batch.time()).map(rdd -> new Job(this, () -> function.call(rdd, batch)));
  }

  /**
   * One output operation's work for one batch.
   *
   * @param operation the output operation
   * @param body runs the job on the job thread
   */
  public record Job(OutputOperation<?> operation, Body body) {}

  /** The job's body. */
  @FunctionalInterface
  public interface Body {
    /** Runs the output function. */
    void run() throws Exception;
  }
}
