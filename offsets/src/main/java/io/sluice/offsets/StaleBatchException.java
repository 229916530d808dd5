package io.sluice.offsets;

/**
 * A commit was refused because the store already holds a batch id at or above it for the group.
 * Either the batch was already committed (a replay after a crash: treat it as done) or another
 * driver is committing for the same group (a zombie: stop).
 */
public class StaleBatchException extends OffsetStoreException {

  private static final long serialVersionUID = 1L;

  private final String group;
  private final long batchId;
  private final long lastCommittedBatchId;

  /** Creates the exception for a refused {@code batchId}. */
  public StaleBatchException(String group, long batchId, long lastCommittedBatchId) {
    super(
        "batch "
            + batchId
            + " refused for group '"
            + group
            + "': the store already holds batch "
            + lastCommittedBatchId
            + " (another driver commits for this group, or a reset by sluice offsets reset/import took the id since this"
            + " batch was planned)");
    this.group = group;
    this.batchId = batchId;
    this.lastCommittedBatchId = lastCommittedBatchId;
  }

  /** The group of the refused commit. */
  public String group() {
    return group;
  }

  /** The refused batch id. */
  public long batchId() {
    return batchId;
  }

  /** The highest batch id the store holds for the group. */
  public long lastCommittedBatchId() {
    return lastCommittedBatchId;
  }
}
