package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import java.util.List;
import java.util.Optional;

/**
 * Seam for the exactly-once protocol: the batch log (plans, written before a batch runs) and the commit log
 * (ids of committed batches). The default {@link InMemoryBatchJournal} persists nothing; a durable implementation
 * under {@code checkpointDir} plugs in here. Called on the job generator thread ({@link #planned},
 * {@link #recover}) and the job scheduler thread ({@link #committed}).
 */
public interface BatchJournal extends AutoCloseable {

  /** Durably records a planned batch before any of its jobs runs. */
  void planned(Batch batch);

  /** Durably records that {@code batchId} committed. */
  void committed(long batchId);

  /** What a restart must know; empty on a fresh start. Called once, at start. */
  Recovery recover();

  /** Releases resources. */
  @Override
  void close();

  /**
   * The state found at start.
   *
   * @param latest      the newest planned batch, if any (its plans restore the inputs)
   * @param uncommitted planned but uncommitted batches, oldest first, to replay before planning new ones
   */
  record Recovery(Optional<Batch> latest, List<Batch> uncommitted) {

    /** Nothing to recover. */
    public static Recovery none() {
      return new Recovery(Optional.empty(), List.of());
    }
  }
}
