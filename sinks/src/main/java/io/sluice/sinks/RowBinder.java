package io.sluice.sinks;

import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Sets the parameters of the sink's statement from one record. Called on the job thread, once per
 * record, before {@code addBatch()}.
 *
 * @param <T> record type
 */
@FunctionalInterface
public interface RowBinder<T> {

  /** Binds {@code record} to {@code statement}'s parameters; throwing fails the batch. */
  void bind(PreparedStatement statement, T record) throws SQLException;
}
