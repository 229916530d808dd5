package io.sluice.engine;

/** What an output can promise about each input record's effect after failures and restarts. */
public enum DeliveryGuarantee {

  /** A replayed batch may apply its records again: the output sees some records twice. */
  AT_LEAST_ONCE,

  /**
   * Writes are keyed by (batch id, partition) or by the records' own keys, so a replayed batch
   * overwrites what it wrote before: the end state holds each record's effect once.
   */
  IDEMPOTENT,

  /**
   * Output and the batch's offsets commit in one transaction, and a batch already committed is
   * never applied again: each record's effect is applied exactly once, even for outputs that add.
   */
  EXACTLY_ONCE
}
