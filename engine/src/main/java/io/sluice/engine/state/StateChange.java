package io.sluice.engine.state;

import java.util.Objects;

/**
 * One key's change in one batch of a state operator kept per source partition: what a {@link
 * StateChangelog} writes in the batch's transaction.
 *
 * @param operator the operator's stable name
 * @param source the source partition the key's records come from (e.g. {@code orders-3})
 * @param key the key, serialized with the operator's key serde
 * @param value the value after the batch, serialized with the operator's value serde; null when the
 *     batch removed the key
 */
public record StateChange(String operator, String source, byte[] key, byte[] value) {

  /** Validates the fields. */
  public StateChange {
    Objects.requireNonNull(operator, "operator");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(key, "key");
  }

  /** Whether the batch removed the key. */
  public boolean removed() {
    return value == null;
  }
}
