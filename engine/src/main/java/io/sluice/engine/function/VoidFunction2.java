package io.sluice.engine.function;

/**
 * A side-effecting function of two arguments (e.g. {@code (rdd, batch)}).
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads (or the job generator thread for
 * DStream transform functions) and must be safe to call concurrently from several partitions.
 */
@FunctionalInterface
public interface VoidFunction2<T1, T2> {

  /** Applies the function. */
  void call(T1 t1, T2 t2) throws Exception;
}
