package io.sluice.engine;

/**
 * Where a sequenced input stands in the place its progress is committed (see {@link
 * SequencedPlan}).
 *
 * @param batchId the last batch committed there
 * @param next the first sequence number that batch did not cover
 */
public record SequencePosition(long batchId, long next) {

  /** Validates the position. */
  public SequencePosition {
    if (batchId < 0 || next < 0) {
      throw new IllegalArgumentException(
          "batchId and next must be >= 0, were " + batchId + " and " + next);
    }
  }
}
