package io.sluice.engine.function;

/**
 * A function of two arguments (reducers, combiners, transform with batch time).
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads (or the job generator thread for
 * DStream transform functions) and must be safe to call concurrently from several partitions.
 */
@FunctionalInterface
public interface Function2<T1, T2, R> {

  /** Applies the function. */
  R call(T1 t1, T2 t2) throws Exception;
}
