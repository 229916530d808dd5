package io.sluice.examples;

import java.util.Comparator;

/**
 * One closed session of the {@code sessions} example, as the pipeline writes it to PostgreSQL and
 * as the plain-Java model computes it.
 *
 * @param user the user
 * @param clicks the session's clicks
 * @param entryPage the page of the session's first click
 * @param exitPage the page of its last click
 * @param firstClickMs the time of its first click, epoch milliseconds
 * @param lastClickMs the time of its last click
 * @param firstBatchMs the time of the batch that read its first click
 * @param lastBatchMs the time of the batch that read its last click
 * @param closedBatchMs the time of the batch that closed it: the first batch at least the timeout
 *     after {@code lastBatchMs} that read no click of the user
 */
record Session(
    String user,
    long clicks,
    String entryPage,
    String exitPage,
    long firstClickMs,
    long lastClickMs,
    long firstBatchMs,
    long lastBatchMs,
    long closedBatchMs) {

  /** By user, then by first batch: the order of the table's primary key. */
  static final Comparator<Session> ORDER =
      Comparator.comparing(Session::user).thenComparingLong(Session::firstBatchMs);

  /** How long the session lasted, from its first to its last click. */
  long durationMs() {
    return lastClickMs - firstClickMs;
  }
}
