package io.sluice.engine.function;

/**
 * A function of one argument.
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads (or the job generator thread for
 * DStream transform functions) and must be safe to call concurrently from several partitions.
 */
@FunctionalInterface
public interface Function<T, R> {

  /** Applies the function. */
  R call(T t) throws Exception;
}
