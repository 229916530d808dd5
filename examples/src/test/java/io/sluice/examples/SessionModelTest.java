package io.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plain-Java definition of a session that the {@code sessions} example checks against. */
class SessionModelTest {

  private static final Instant START = Instant.ofEpochSecond(1_000);
  private static final Duration I = Duration.ofSeconds(1);

  /** Round r's click of user u at START + r s + 500 ms. */
  private static List<List<Click>> clicks(int rounds, String user, int... at) {
    List<List<Click>> out = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      out.add(new ArrayList<>());
    }
    for (int r : at) {
      out.get(r).add(new Click(user, "/p" + r, START.toEpochMilli() + r * 1000L + 500));
    }
    return out;
  }

  private static long batch(int r) {
    return SessionModel.batchTime(r, START, I);
  }

  @Test
  void aClickExactlyTheTimeoutLaterContinuesTheSessionAndOneBatchMoreStartsANewOne() {
    // Timeout 3 batches: 0 -> 3 is one session; 3 -> 7 is a gap of 4, so 7 opens a new one.
    List<Session> sessions = SessionModel.sessions(clicks(10, "u", 0, 3, 7), 3, START, I);

    assertThat(sessions)
        .containsExactly(
            new Session("u", 2, "/p0", "/p3", 1_000_500, 1_003_500, batch(0), batch(3), batch(6)),
            new Session("u", 1, "/p7", "/p7", 1_007_500, 1_007_500, batch(7), batch(7), batch(10)));
    assertThat(batch(0))
        .as("round 0 is read by the first batch, one interval in")
        .isEqualTo(1_001_000);
  }

  @Test
  void generatedClicksAreDeterministicAndExerciseBothSidesOfTheTimeout() {
    List<List<Click>> a = ClickGenerator.rounds(42, 20, 20, 3, START, I);

    assertThat(ClickGenerator.rounds(42, 20, 20, 3, START, I)).isEqualTo(a);
    assertThat(SessionModel.gaps(a, 3)).isPositive();
    assertThat(SessionModel.gaps(a, 4)).isPositive();
    for (int r = 0; r < a.size(); r++) {
      long from = START.toEpochMilli() + r * 1000L;
      assertThat(a.get(r)).allMatch(c -> c.timeMs() > from && c.timeMs() <= from + 1000);
    }
  }
}
