package io.sluice.engine;

import java.util.Objects;

/**
 * Where an input's progress (its offsets) is committed: an offset store, or a Kafka cluster's
 * consumer groups. Inputs and transactional outputs declare their target so the engine can make
 * sure each input's offsets have exactly one committer per batch, and that the place an input reads
 * its position from at start is the place its batches commit to.
 *
 * <p>Two targets are the same when their {@code identity} objects are equal: an offset store
 * instance (equal only to itself), or a canonical key such as {@code
 * kafka-groups@host1:9092,host2:9092}.
 *
 * @param identity what makes two targets the same place
 * @param description a short description for messages, e.g. {@code jdbc(sluice_offset*)}
 */
public record CommitTarget(Object identity, String description) {

  /** Validates the fields. */
  public CommitTarget {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(description, "description");
  }

  /** Targets are the same place when their identities are equal; the description does not count. */
  @Override
  public boolean equals(Object o) {
    return o instanceof CommitTarget other && identity.equals(other.identity);
  }

  @Override
  public int hashCode() {
    return identity.hashCode();
  }

  @Override
  public String toString() {
    return description;
  }
}
