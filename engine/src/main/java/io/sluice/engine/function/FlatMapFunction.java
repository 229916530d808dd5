package io.sluice.engine.function;

/**
 * Maps an element (or a partition's iterator) to zero or more elements, returned as an iterator.
 *
 * <p>Application code: may throw any exception; a checked one is wrapped in {@link
 * io.sluice.engine.UserCodeException}. Called on task threads (or the job generator thread for
 * DStream transform functions) and must be safe to call concurrently from several partitions.
 */
@FunctionalInterface
public interface FlatMapFunction<T, R> {

  /** Applies the function. */
  java.util.Iterator<R> call(T t) throws Exception;
}
