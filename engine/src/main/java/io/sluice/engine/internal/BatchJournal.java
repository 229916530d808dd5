package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import java.util.List;

/**
 * Seam for the exactly-once protocol: the batch log (plans, written before a batch runs) and the
 * commit log (ids of committed batches). The default {@link InMemoryBatchJournal} persists nothing;
 * a durable implementation under {@code checkpointDir} plugs in here. Called on the job generator
 * thread ({@link #planned}, {@link #recover}) and the job scheduler thread ({@link #committed}).
 */
public interface BatchJournal extends AutoCloseable {

  /** Durably records a planned batch before any of its jobs runs. */
  void planned(Batch batch);

  /** Durably records that {@code batchId} committed. */
  void committed(long batchId);

  /**
   * Durably records that the planned batches up to {@code throughBatchId} will never run: the
   * inputs' committed progress disagreed with them at start, so they continue from their offset
   * stores instead. Afterwards those batches no longer count as uncommitted.
   */
  void dropped(long throughBatchId);

  /** What a restart must know; empty on a fresh start. Called once, at start. */
  Recovery recover();

  /**
   * Keeps at least {@code batches} committed batches in the log, so that windows can read them
   * again after a restart. Default: nothing (a journal that keeps nothing).
   */
  default void retainCommitted(int batches) {}

  /** Releases resources. */
  @Override
  void close();

  /**
   * The state found at start.
   *
   * @param planned every retained planned batch, oldest first, committed or not
   * @param lastCommitted the highest id the commit log marks committed (or dropped), -1 when none
   */
  record Recovery(List<Batch> planned, long lastCommitted) {

    /** Copies the list. */
    public Recovery {
      planned = List.copyOf(planned);
    }

    /** Nothing to recover. */
    public static Recovery none() {
      return new Recovery(List.of(), -1);
    }

    /** The planned batches above the last committed id, oldest first. */
    public List<Batch> uncommitted() {
      return planned.stream().filter(b -> b.id() > lastCommitted).toList();
    }

    /** The id of the newest planned or committed batch, -1 when none. */
    public long lastId() {
      long newest = planned.isEmpty() ? -1 : planned.get(planned.size() - 1).id();
      return Math.max(newest, lastCommitted);
    }
  }
}
