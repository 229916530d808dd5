package io.sluice.engine.function;

/**
 * A side-effecting function of one argument.
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads (or the job generator thread for
 * DStream transform functions) and must be safe to call concurrently from several partitions.
 */
@FunctionalInterface
public interface VoidFunction<T> {

  /** Applies the function. */
  void call(T t) throws Exception;
}
