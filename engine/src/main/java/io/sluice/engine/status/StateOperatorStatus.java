package io.sluice.engine.status;

import java.util.Objects;

/**
 * One state operator as it stands.
 *
 * @param name the operator's name (its state directory's name under the checkpoint)
 * @param partitions its number of partitions; for an operator over a group-mode Kafka input, the
 *     input partitions this process holds state for now
 * @param keys keys held over all partitions, as of each partition's last persisted batch (or its
 *     recovery, or the rollback of a failed batch); 0 before the context started
 */
public record StateOperatorStatus(String name, int partitions, long keys) {

  /** Validates the fields. */
  public StateOperatorStatus {
    Objects.requireNonNull(name, "name");
  }
}
