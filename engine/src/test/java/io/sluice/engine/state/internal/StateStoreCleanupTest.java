package io.sluice.engine.state.internal;

import static io.sluice.engine.state.internal.StateTesting.files;
import static io.sluice.engine.state.internal.StateTesting.open;
import static io.sluice.engine.state.internal.StateTesting.runBatch;
import static io.sluice.engine.state.internal.StateTesting.runCommitted;
import static io.sluice.engine.state.internal.StateTesting.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.CheckpointException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreCleanupTest {

  private static final long SEED = 11;

  @TempDir Path tmp;

  @Test
  void keepsTheNewestSnapshotAtOrBelowTheOldestRetainedVersionAndTheDeltasAfterIt() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 3));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();

    runCommitted(store, model, SEED, 0, 4);
    // oldest retained 2: no snapshot above 0 yet, so snapshot 0 and deltas 1..4
    assertThat(files(dir))
        .containsExactly("0.snapshot", "1.delta", "2.delta", "3.delta", "4.delta");

    runCommitted(store, model, SEED, 5, 9);
    // oldest retained 7: snapshot 5, deltas 6..9; snapshot 0 and deltas 0..5 are gone
    assertThat(files(dir))
        .containsExactly("5.snapshot", "6.delta", "7.delta", "8.delta", "9.delta");

    runCommitted(store, model, SEED, 10, 12);
    // oldest retained 10: snapshot 10, deltas 11 and 12
    assertThat(files(dir)).containsExactly("10.snapshot", "11.delta", "12.delta");
  }

  @Test
  void afterEveryCommitTheFilesAreExactlyWhatTheRetainedVersionsNeed() {
    int interval = 4;
    int retain = 6;
    Path dir = tmp.resolve("op/1");
    StateStore<Integer, String> store = open(dir, settings(interval, retain));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    for (long b = 0; b < 40; b++) {
      runCommitted(store, model, SEED, b, b);
      // the rule, restated: the newest snapshot at or below the oldest retained version and the
      // deltas after it; before any version is old enough to need a snapshot, everything stays
      long oldest = b - retain + 1;
      long base = oldest < 0 ? -1 : oldest / interval * interval;
      TreeSet<String> need = new TreeSet<>();
      for (long s = Math.max(base, 0); s <= b; s += interval) {
        need.add(s + ".snapshot");
      }
      for (long d = base + 1; d <= b; d++) {
        need.add(d + ".delta");
      }
      assertThat(files(dir)).as("after committing %d", b).isEqualTo(need);
    }
  }

  @Test
  void everyRetainedVersionIsRecoverableAndOlderOnesAreRefused() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 4));
    store.recover(-1);
    Map<Long, Map<Integer, String>> expected = runCommitted(store, new HashMap<>(), SEED, 0, 23);

    // retained: 20..23, from snapshot 20; recover newest first (each recovery drops the files
    // above it)
    for (long v = 23; v >= 20; v--) {
      StateStore<Integer, String> recovered = open(dir, settings(5, 4));
      recovered.recover(v);
      assertThat(recovered.view()).as("version %d", v).isEqualTo(expected.get(v));
    }
    assertThatThrownBy(() -> open(dir, settings(5, 4)).recover(19))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("no snapshot at or below version 19");
  }

  @Test
  void filesAboveTheCommittedVersionAreNeverCleaned() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(2, 1));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    runCommitted(store, model, SEED, 0, 5);
    store.begin(6);
    runBatch(store, model, SEED, 6);
    store.prepare(6);
    store.commit(6);

    store.committed(5);

    assertThat(files(dir)).containsExactly("4.snapshot", "5.delta", "6.delta", "6.snapshot");
  }
}
