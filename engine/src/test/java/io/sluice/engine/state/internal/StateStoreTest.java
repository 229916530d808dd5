package io.sluice.engine.state.internal;

import static io.sluice.engine.state.internal.StateTesting.files;
import static io.sluice.engine.state.internal.StateTesting.open;
import static io.sluice.engine.state.internal.StateTesting.runBatch;
import static io.sluice.engine.state.internal.StateTesting.runCommitted;
import static io.sluice.engine.state.internal.StateTesting.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {

  private static final long SEED = 42;

  @TempDir Path tmp;

  @Test
  void matchesBruteForceModelAfterEveryBatchAndAfterReopen() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(7, 1000));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    Map<Long, Map<Integer, String>> expected = new HashMap<>();
    for (long b = 0; b < 150; b++) {
      store.begin(b);
      runBatch(store, model, SEED, b);
      assertThat(store.view()).isEqualTo(model);
      store.prepare(b);
      store.commit(b);
      store.committed(b);
      assertThat(store.view()).as("after batch %d", b).isEqualTo(model);
      assertThat(store.version()).isEqualTo(b);
      expected.put(b, new HashMap<>(model));
    }

    StateStore<Integer, String> reopened = open(dir, settings(7, 1000));
    reopened.recover(149);

    assertThat(reopened.view()).isEqualTo(model);
    assertThat(reopened.size()).isEqualTo(model.size());
    assertThat(removedAndReAdded(expected, 150)).as("keys removed and re-added").isGreaterThan(5);
  }

  /** How many keys were present, then absent, then present again across the versions. */
  private static long removedAndReAdded(Map<Long, Map<Integer, String>> versions, long count) {
    long n = 0;
    for (int k = 0; k < StateTesting.KEYS; k++) {
      int phase = 0; // 0: not yet seen, 1: present, 2: removed after present, 3: re-added
      for (long v = 0; v < count && phase < 3; v++) {
        boolean present = versions.get(v).containsKey(k);
        if ((phase == 0 || phase == 2) && present) {
          phase++;
        } else if (phase == 1 && !present) {
          phase = 2;
        }
      }
      n += phase == 3 ? 1 : 0;
    }
    return n;
  }

  @Test
  void recoversEveryVersionAndReplaysTheNextBatchToTheSameState() {
    Path dir = tmp.resolve("run");
    StateStore<Integer, String> store = open(dir, settings(5, 1000));
    store.recover(-1);
    Map<Long, Map<Integer, String>> expected = runCommitted(store, new HashMap<>(), SEED, 0, 60);
    expected.put(-1L, Map.of());

    // Newest first: recovering v deletes the files above it (as after a crash that left them
    // uncommitted), and the replay of v + 1 writes them again before the next, older recovery.
    for (long version = 60; version >= -1; version--) {
      long v = version;
      StateStore<Integer, String> recovered = open(dir, settings(5, 1000));
      recovered.recover(v);
      assertThat(recovered.view()).as("recovered version %d", v).isEqualTo(expected.get(v));
      assertThat(files(dir)).as("files above %d", v).noneMatch(f -> versionOf(f) > v);
      if (v < 60) {
        Map<Integer, String> model = new HashMap<>(expected.get(v));
        recovered.begin(v + 1);
        runBatch(recovered, model, SEED, v + 1);
        recovered.prepare(v + 1);
        recovered.commit(v + 1);
        assertThat(recovered.view()).as("replayed batch %d", v + 1).isEqualTo(expected.get(v + 1));
        StateStore<Integer, String> reread = open(dir, settings(5, 1000));
        reread.recover(v + 1);
        assertThat(reread.view()).as("re-read version %d", v + 1).isEqualTo(expected.get(v + 1));
      }
    }
  }

  private static long versionOf(String fileName) {
    return Long.parseLong(fileName.substring(0, fileName.indexOf('.')));
  }

  @Test
  void writesADeltaEveryBatchAndASnapshotAtEachMultipleOfTheInterval() {
    Path dir = tmp.resolve("op/3");
    StateStore<Integer, String> store = open(dir, settings(4, 1000));
    store.recover(-1);
    runCommitted(store, new HashMap<>(), SEED, 0, 9);

    assertThat(files(dir))
        .containsExactly(
            "0.delta",
            "0.snapshot",
            "1.delta",
            "2.delta",
            "3.delta",
            "4.delta",
            "4.snapshot",
            "5.delta",
            "6.delta",
            "7.delta",
            "8.delta",
            "8.snapshot",
            "9.delta");
  }

  @Test
  void deltaCostFollowsTheKeysTouchedNotTheStateSize() {
    Path dir = tmp.resolve("big");
    StateStore<Integer, String> store = open(dir, settings(10, 1000));
    store.recover(-1);
    store.begin(0);
    for (int k = 0; k < 20_000; k++) {
      store.put(k, "value-" + k);
    }
    StateStore.PersistStats first = store.prepare(0);
    store.commit(0);
    store.begin(1);
    for (int k = 0; k < 10; k++) {
      store.put(k, "changed");
    }
    store.remove(11);
    store.put(30_000, "new");
    store.remove(30_000); // added and removed in one batch: nothing to persist
    StateStore.PersistStats second = store.prepare(1);
    store.commit(1);

    assertThat(first.snapshotEntries()).isEqualTo(20_000);
    assertThat(first.snapshotBytes()).isGreaterThan(200_000);
    assertThat(second.deltaEntries()).isEqualTo(11);
    assertThat(second.deltaBytes()).isLessThan(300);
    assertThat(second.snapshotBytes()).isEqualTo(-1);
  }

  @Test
  void replaysAPersistedButUncommittedBatchToTheSameStateAfterACrash() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 1000));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    runCommitted(store, model, SEED, 0, 12);
    Map<Integer, String> at12 = new HashMap<>(model);
    // batches 13..15 persisted (15 with a snapshot) but never committed; then the process dies
    for (long b = 13; b <= 15; b++) {
      store.begin(b);
      runBatch(store, model, SEED, b);
      store.prepare(b);
      store.commit(b);
    }
    Map<Integer, String> at13 = new HashMap<>();
    {
      Map<Integer, String> m = new HashMap<>(at12);
      StateStore<Integer, String> scratch = open(tmp.resolve("scratch"), settings(5, 1000));
      scratch.recover(-1);
      scratch.begin(0);
      runBatch(scratch, m, SEED, 13);
      at13.putAll(m);
    }
    assertThat(files(dir)).contains("13.delta", "14.delta", "15.delta", "15.snapshot");

    StateStore<Integer, String> restarted = open(dir, settings(5, 1000));
    restarted.recover(12);

    assertThat(restarted.view()).isEqualTo(at12);
    assertThat(files(dir)).doesNotContain("13.delta", "14.delta", "15.delta", "15.snapshot");

    restarted.begin(13);
    runBatch(restarted, new HashMap<>(), SEED, 13);
    restarted.prepare(13);
    restarted.commit(13);
    restarted.committed(13);
    assertThat(restarted.view()).isEqualTo(at13);

    StateStore<Integer, String> again = open(dir, settings(5, 1000));
    again.recover(13);
    assertThat(again.view()).isEqualTo(at13);
  }

  @Test
  void beginReloadsTheVersionBeforeAReplayedBatchInTheSameProcess() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 1000));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    runCommitted(store, model, SEED, 0, 7);
    Map<Integer, String> at7 = new HashMap<>(model);
    store.begin(8);
    runBatch(store, model, SEED, 8);
    store.prepare(8);
    store.commit(8); // persisted, not committed; the engine replays 8

    store.begin(8);
    assertThat(store.view()).isEqualTo(at7);
    runBatch(store, new HashMap<>(), SEED, 8);
    store.prepare(8);
    store.commit(8);
    store.committed(8);

    assertThat(store.view()).isEqualTo(model);
  }

  @Test
  void abortReturnsToThePreviousVersionFromEveryStepOfABatch() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(3, 1000));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    runCommitted(store, model, SEED, 0, 5);
    Map<Integer, String> at5 = new HashMap<>(model);
    Map<Integer, String> at6 = new HashMap<>(model);

    store.begin(6);
    runBatch(store, at6, SEED, 6);
    store.abort();
    assertThat(store.view()).isEqualTo(at5);
    assertThat(store.version()).isEqualTo(5);

    store.begin(6);
    runBatch(store, new HashMap<>(), SEED, 6);
    store.prepare(6);
    assertThat(files(dir)).contains("6.delta.tmp", "6.snapshot.tmp");
    store.abort();
    assertThat(store.view()).isEqualTo(at5);
    assertThat(files(dir)).noneMatch(f -> f.startsWith("6."));

    store.begin(6);
    runBatch(store, new HashMap<>(), SEED, 6);
    store.prepare(6);
    store.commit(6);
    assertThat(files(dir)).contains("6.delta", "6.snapshot");
    store.abort();
    store.abort(); // idempotent
    assertThat(store.view()).isEqualTo(at5);
    assertThat(store.version()).isEqualTo(5);
    assertThat(files(dir)).noneMatch(f -> f.startsWith("6."));

    store.begin(6);
    runBatch(store, new HashMap<>(), SEED, 6);
    store.prepare(6);
    store.commit(6);
    store.committed(6);
    store.abort(); // committed: nothing to roll back
    assertThat(store.view()).isEqualTo(at6);
    StateStore<Integer, String> reopened = open(dir, settings(3, 1000));
    reopened.recover(6);
    assertThat(reopened.view()).isEqualTo(at6);
  }

  @Test
  void leftoverTemporaryFilesAreDeletedOnRecovery() throws Exception {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 1000));
    store.recover(-1);
    Map<Integer, String> model = new HashMap<>();
    runCommitted(store, model, SEED, 0, 2);
    store.begin(3);
    runBatch(store, model, SEED, 3);
    store.prepare(3); // crash before commit: temporary files stay behind

    StateStore<Integer, String> restarted = open(dir, settings(5, 1000));
    restarted.recover(2);

    assertThat(files(dir)).noneMatch(f -> f.endsWith(".tmp"));
    assertThat(Files.exists(dir.resolve("3.delta"))).isFalse();
  }

  @Test
  void refusesCallsOutOfOrderWithTheReason() {
    Path dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 1000));

    assertThatThrownBy(() -> store.begin(0)).hasMessageContaining("recover(committedBatch) first");
    assertThatThrownBy(() -> store.load(0)).hasMessageContaining("recover(committedBatch) first");
    store.recover(-1);
    assertThatThrownBy(() -> store.put(1, "x")).hasMessageContaining("expected OPEN");
    assertThatThrownBy(() -> store.begin(1)).hasMessageContaining("newest persisted version is -1");
    runCommitted(store, new HashMap<>(), SEED, 0, 3);
    assertThatThrownBy(() -> store.begin(3)).hasMessageContaining("already committed");
    assertThatThrownBy(() -> store.load(2)).hasMessageContaining("below the committed version 3");
    store.begin(4);
    assertThatThrownBy(() -> store.prepare(5)).hasMessageContaining("batch 4 is OPEN");
    assertThatThrownBy(() -> store.commit(4)).hasMessageContaining("expected PREPARED");
    assertThatThrownBy(() -> store.committed(4)).hasMessageContaining("not persisted");
    assertThatThrownBy(() -> store.recover(3)).hasMessageContaining("while batch 4 is OPEN");
    assertThatThrownBy(() -> store.load(3)).hasMessageContaining("while batch 4 is OPEN");
    assertThatThrownBy(() -> store.put(null, "x")).isInstanceOf(NullPointerException.class);
    store.close();
    store.close();
    assertThatThrownBy(() -> store.get(1)).hasMessageContaining("CLOSED");
  }
}
