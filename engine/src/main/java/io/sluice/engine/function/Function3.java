package io.sluice.engine.function;

/**
 * A function of three arguments (the {@code mapWithState} mapping function).
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads and must be safe to call concurrently
 * from several partitions.
 */
@FunctionalInterface
public interface Function3<T1, T2, T3, R> {

  /** Applies the function. */
  R call(T1 t1, T2 t2, T3 t3) throws Exception;
}
