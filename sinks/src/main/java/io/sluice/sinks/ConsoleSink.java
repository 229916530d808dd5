package io.sluice.sinks;

import io.sluice.sinks.internal.ConsoleSinkImpl;
import java.io.PrintStream;

/**
 * Prints the first records of every batch, exactly as {@code DStream.print} does (both use the
 * engine's {@link io.sluice.engine.output.ConsoleOutput}), for demos and debugging: a header with
 * the batch id and time, then up to {@code n} records, one per line, and {@code ...} when the batch
 * held more. {@link io.sluice.engine.DeliveryGuarantee#AT_LEAST_ONCE AT_LEAST_ONCE}: a replayed
 * batch is printed again.
 *
 * @param <T> record type
 */
public interface ConsoleSink<T> extends Sink<T> {

  /** A sink printing up to {@code n} records per batch to {@code System.out}. */
  static <T> ConsoleSink<T> create(int n) {
    return create(n, System.out);
  }

  /**
   * A sink printing up to {@code n} records per batch to {@code out}.
   *
   * @throws IllegalArgumentException if {@code n <= 0}
   */
  static <T> ConsoleSink<T> create(int n, PrintStream out) {
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0, was " + n);
    }
    if (out == null) {
      throw new IllegalArgumentException("out must not be null, was null");
    }
    return new ConsoleSinkImpl<>(n, out);
  }
}
