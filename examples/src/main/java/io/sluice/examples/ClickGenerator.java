package io.sluice.examples;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The clicks of the {@code sessions} example, computed up front from a seed, in rounds: round
 * {@code r} holds the clicks made during batch {@code r}'s interval, {@code (start + r * interval,
 * start + (r + 1) * interval]}, and is written to Kafka just before that batch runs. Every user
 * clicks in some rounds; the rounds between two of a user's clicking rounds (the gap) are drawn so
 * that gaps of exactly the session timeout and of one round more are common, which puts both sides
 * of the timeout's boundary to the test. A user's clicks have distinct, increasing times. Pure and
 * deterministic: the same arguments give the same clicks.
 */
final class ClickGenerator {

  /** The pages users click. */
  static final List<String> PAGES =
      List.of("/", "/search", "/product/1", "/product/2", "/product/3", "/cart", "/checkout");

  private ClickGenerator() {}

  /**
   * The clicks, one list per round, each sorted by time.
   *
   * @param seed the random seed
   * @param users how many users, named {@code u001}, {@code u002}, ...
   * @param rounds how many rounds hold clicks
   * @param timeoutBatches the session timeout in batches, around which the gaps are drawn
   * @param start the time before the first round
   * @param interval the batch interval, at least 10 ms
   */
  static List<List<Click>> rounds(
      long seed, int users, int rounds, int timeoutBatches, Instant start, Duration interval) {
    if (interval.toMillis() < 10) {
      throw new IllegalArgumentException("interval must be >= 10 ms, was " + interval);
    }
    SplittableRandom random = new SplittableRandom(seed);
    List<List<Click>> out = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      out.add(new ArrayList<>());
    }
    long intervalMs = interval.toMillis();
    for (int u = 1; u <= users; u++) {
      String user = String.format("u%03d", u);
      int r = random.nextInt(Math.min(rounds, 2 * timeoutBatches + 2));
      while (r < rounds) {
        int n = 1 + random.nextInt(3);
        long slot = intervalMs / n;
        for (int j = 0; j < n; j++) {
          long t = start.toEpochMilli() + r * intervalMs + j * slot + 1 + random.nextLong(slot - 1);
          out.get(r).add(new Click(user, PAGES.get(random.nextInt(PAGES.size())), t));
        }
        r += gap(random, timeoutBatches);
      }
    }
    out.forEach(
        round -> round.sort(Comparator.comparingLong(Click::timeMs).thenComparing(Click::user)));
    return out;
  }

  /**
   * Rounds to a user's next clicking round: often 1, often the timeout or one more, sometimes long.
   */
  private static int gap(SplittableRandom random, int timeoutBatches) {
    int dice = random.nextInt(100);
    if (dice < 45) {
      return 1;
    } else if (dice < 65) {
      return 1 + random.nextInt(timeoutBatches); // 1 .. timeout: the session goes on
    } else if (dice < 75) {
      return timeoutBatches; // the last round the session survives
    } else if (dice < 85) {
      return timeoutBatches + 1; // the first round after the session timed out
    }
    return timeoutBatches + 2 + random.nextInt(4 * timeoutBatches);
  }
}
