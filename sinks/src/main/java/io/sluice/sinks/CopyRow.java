package io.sluice.sinks;

import java.util.List;

/**
 * A record's values for a {@code COPY} into a {@link JdbcSink}'s staging table, in the order of the
 * staging table's columns. Each value is written with {@code String.valueOf} (null stays SQL NULL)
 * and read back by PostgreSQL as text for its column's type. Called on the job thread, once per
 * record.
 *
 * @param <T> record type
 */
@FunctionalInterface
public interface CopyRow<T> {

  /** The values of {@code record}, one per staging column; throwing fails the batch. */
  List<?> values(T record) throws Exception;
}
