package io.sluice.engine.function;

/**
 * Maps an element to a key-value pair.
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads (or the job generator thread for
 * DStream transform functions) and must be safe to call concurrently from several partitions.
 */
@FunctionalInterface
public interface PairFunction<T, K, V> {

  /** Applies the function. */
  io.sluice.engine.KV<K, V> call(T t) throws Exception;
}
