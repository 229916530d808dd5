package io.sluice.engine.receiver.internal;

import java.util.List;
import java.util.Objects;

/**
 * Records a receiver stored together, read by one partition of a batch.
 *
 * @param id unique across runs: the stream, a run id and a sequence number
 * @param records the records, in the order stored
 * @param <T> record type
 */
public record Block<T>(String id, List<T> records) {

  /** Validates the fields. */
  public Block {
    Objects.requireNonNull(id, "id");
    records = List.copyOf(records);
  }
}
