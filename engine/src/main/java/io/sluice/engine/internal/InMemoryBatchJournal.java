package io.sluice.engine.internal;

import io.sluice.engine.Batch;

/** A batch log that only tracks the latest ids (nothing survives the process). */
public final class InMemoryBatchJournal implements BatchJournal {

  private volatile long lastPlanned = -1;
  private volatile long lastCommitted = -1;

  @Override
  public void planned(Batch batch) {
    lastPlanned = batch.id();
  }

  @Override
  public void committed(long batchId) {
    lastCommitted = batchId;
  }

  @Override
  public void dropped(long throughBatchId) {
    lastCommitted = Math.max(lastCommitted, throughBatchId);
  }

  @Override
  public Recovery recover() {
    return Recovery.none();
  }

  /** The last planned batch id, -1 if none. */
  public long lastPlanned() {
    return lastPlanned;
  }

  /** The last committed batch id, -1 if none. */
  public long lastCommitted() {
    return lastCommitted;
  }

  @Override
  public void close() {}
}
