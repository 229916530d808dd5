package io.sluice.examples;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sessions of the {@code sessions} example computed in plain Java from the generated rounds,
 * without the engine: the check the pipeline's table is compared with.
 *
 * <p>Round {@code r} is read by batch {@code r}, whose time is {@code start + (r + 1) * interval}.
 * A session of a user is a longest run of the user's clicking rounds in which each round is at most
 * {@code timeoutBatches} after the previous one; it is closed by batch {@code last +
 * timeoutBatches}, where {@code last} is its last clicking round. So two clicks exactly the timeout
 * apart belong to one session (the click arrives in the batch that would have closed it, and a
 * click extends a session before idle sessions are closed), and one round more starts a new one.
 */
final class SessionModel {

  private SessionModel() {}

  /** Every session of the clicks in {@code rounds}, by user and first batch. */
  static List<Session> sessions(
      List<List<Click>> rounds, int timeoutBatches, Instant start, Duration interval) {
    Map<String, List<int[]>> byUser = new TreeMap<>(); // user -> (round, index in round)
    for (int r = 0; r < rounds.size(); r++) {
      List<Click> round = rounds.get(r);
      for (int i = 0; i < round.size(); i++) {
        byUser.computeIfAbsent(round.get(i).user(), u -> new ArrayList<>()).add(new int[] {r, i});
      }
    }
    List<Session> out = new ArrayList<>();
    byUser.forEach(
        (user, clicks) -> {
          int from = 0;
          for (int i = 1; i <= clicks.size(); i++) {
            if (i == clicks.size() || clicks.get(i)[0] - clicks.get(i - 1)[0] > timeoutBatches) {
              out.add(
                  session(user, rounds, clicks.subList(from, i), timeoutBatches, start, interval));
              from = i;
            }
          }
        });
    out.sort(Session.ORDER);
    return out;
  }

  /** How often a user clicked again exactly {@code gap} rounds after a round with clicks. */
  static long gaps(List<List<Click>> rounds, int gap) {
    Map<String, Integer> lastRound = new TreeMap<>();
    long n = 0;
    for (int r = 0; r < rounds.size(); r++) {
      for (String user : rounds.get(r).stream().map(Click::user).distinct().toList()) {
        Integer last = lastRound.put(user, r);
        if (last != null && r - last == gap) {
          n++;
        }
      }
    }
    return n;
  }

  private static Session session(
      String user,
      List<List<Click>> rounds,
      List<int[]> clicks,
      int timeoutBatches,
      Instant start,
      Duration interval) {
    Click first = null;
    Click last = null;
    for (int[] at : clicks) {
      Click c = rounds.get(at[0]).get(at[1]);
      if (first == null || c.timeMs() < first.timeMs()) {
        first = c;
      }
      if (last == null || c.timeMs() > last.timeMs()) {
        last = c;
      }
    }
    int firstRound = clicks.get(0)[0];
    int lastRound = clicks.get(clicks.size() - 1)[0];
    return new Session(
        user,
        clicks.size(),
        first.page(),
        last.page(),
        first.timeMs(),
        last.timeMs(),
        batchTime(firstRound, start, interval),
        batchTime(lastRound, start, interval),
        batchTime(lastRound + timeoutBatches, start, interval));
  }

  /** The time of the batch that reads round {@code r}. */
  static long batchTime(int r, Instant start, Duration interval) {
    return start.plus(interval.multipliedBy(r + 1L)).toEpochMilli();
  }
}
