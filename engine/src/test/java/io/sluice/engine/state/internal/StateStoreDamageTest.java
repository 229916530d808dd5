package io.sluice.engine.state.internal;

import static io.sluice.engine.state.internal.StateTesting.files;
import static io.sluice.engine.state.internal.StateTesting.flipByte;
import static io.sluice.engine.state.internal.StateTesting.open;
import static io.sluice.engine.state.internal.StateTesting.runBatch;
import static io.sluice.engine.state.internal.StateTesting.runCommitted;
import static io.sluice.engine.state.internal.StateTesting.setFormatVersion;
import static io.sluice.engine.state.internal.StateTesting.settings;
import static io.sluice.engine.state.internal.StateTesting.truncate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged, incomplete or too-new state files: recovered from an older snapshot where one reaches
 * the committed version, refused with the file named otherwise, never loaded as wrong state.
 */
class StateStoreDamageTest {

  private static final long SEED = 7;
  private static final int HEADER = 48;

  @TempDir Path tmp;

  private Path dir;
  private Map<Long, Map<Integer, String>> expected;

  /** Batches 0..12 committed with a snapshot every 5 and everything retained. */
  @BeforeEach
  void run() {
    dir = tmp.resolve("op/0");
    StateStore<Integer, String> store = open(dir, settings(5, 1000));
    store.recover(-1);
    expected = runCommitted(store, new HashMap<>(), SEED, 0, 12);
  }

  private StateStore<Integer, String> recover(long version) {
    StateStore<Integer, String> store = open(dir, settings(5, 1000));
    store.recover(version);
    return store;
  }

  @Test
  void tornDeltaIsRefusedNamingTheFile() throws Exception {
    Path delta = dir.resolve("12.delta");
    truncate(delta, Files.size(delta) - 3);

    assertThatThrownBy(() -> recover(12))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("cannot recover state version 12")
        .hasMessageContaining("12.delta is truncated (torn write)");
  }

  @Test
  void deltaTornInsideItsHeaderIsRefusedNamingTheFile() throws Exception {
    truncate(dir.resolve("11.delta"), 20);

    assertThatThrownBy(() -> recover(12))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("11.delta is truncated");
  }

  @Test
  void damagedDeltaBelowTheNewestSnapshotIsNotNeeded() throws Exception {
    truncate(dir.resolve("7.delta"), HEADER + 1);

    assertThat(recover(12).view()).isEqualTo(expected.get(12L));
  }

  @Test
  void flippedByteInSnapshotFallsBackToTheOlderSnapshotAndItsDeltas() throws Exception {
    flipByte(dir.resolve("10.snapshot"), HEADER + 10);

    StateStore<Integer, String> store = recover(12);

    assertThat(store.view()).isEqualTo(expected.get(12L));
    assertThat(files(dir)).contains("10.snapshot.corrupt").doesNotContain("10.snapshot");
    assertThat(recover(12).view()).isEqualTo(expected.get(12L));
  }

  @Test
  void everySnapshotDamagedFallsBackToTheDeltasFromVersionZero() throws Exception {
    for (long s : new long[] {0, 5, 10}) {
      flipByte(dir.resolve(s + ".snapshot"), HEADER + 1);
    }

    assertThat(recover(12).view()).isEqualTo(expected.get(12L));
    assertThat(files(dir))
        .contains("0.snapshot.corrupt", "5.snapshot.corrupt", "10.snapshot.corrupt")
        .noneMatch(f -> f.endsWith(".snapshot"));
  }

  @Test
  void damagedSnapshotAndAMissingOlderDeltaAreBothNamed() throws Exception {
    flipByte(dir.resolve("10.snapshot"), HEADER + 1);
    Files.delete(dir.resolve("8.delta"));

    assertThatThrownBy(() -> recover(12))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("10.snapshot fails its payload checksum")
        .hasMessageContaining("delta 8.delta is missing (needed after snapshot 5.snapshot)");
    assertThat(files(dir)).contains("10.snapshot");
  }

  @Test
  void flippedByteInAHeaderIsDetectedAndFallenBackFrom() throws Exception {
    flipByte(dir.resolve("10.snapshot"), 20); // inside the version field

    assertThat(recover(12).view()).isEqualTo(expected.get(12L));
    assertThat(files(dir)).contains("10.snapshot.corrupt");
  }

  @Test
  void flippedByteInTheOnlySnapshotIsRefusedAndTheFilesAreLeftAlone() throws Exception {
    StateStore<Integer, String> store = open(dir, settings(5, 1));
    store.recover(12);
    store.begin(13);
    runBatch(store, new HashMap<>(), SEED, 13);
    store.prepare(13);
    store.commit(13);
    store.committed(13); // retains one version: snapshot 10 and deltas 11..13
    assertThat(files(dir)).containsExactly("10.snapshot", "11.delta", "12.delta", "13.delta");
    flipByte(dir.resolve("10.snapshot"), HEADER + 3);

    assertThatThrownBy(() -> recover(13))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("10.snapshot fails its payload checksum (CRC32C)")
        .hasMessageContaining("restore the checkpoint directory from a backup");
    assertThat(files(dir)).containsExactly("10.snapshot", "11.delta", "12.delta", "13.delta");
  }

  @Test
  void missingDeltaIsRefusedNamingIt() throws Exception {
    Files.delete(dir.resolve("11.delta"));

    assertThatThrownBy(() -> recover(12))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("delta 11.delta is missing (needed after snapshot 10.snapshot)");
  }

  @Test
  void fileWithAnotherVersionsContentIsRefused() throws Exception {
    Files.copy(
        dir.resolve("11.delta"),
        dir.resolve("12.delta"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(() -> recover(12))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("12.delta holds a delta of version 11");
  }

  @Test
  void newerFormatVersionIsRefusedNamingBothVersions() throws Exception {
    setFormatVersion(dir.resolve("3.delta"), 2);

    assertThatThrownBy(() -> recover(12))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("3.delta has format version 2, newer than version 1")
        .hasMessageContaining("run the newer Sluice");
  }

  @Test
  void newerFormatAboveTheCommittedVersionIsRefusedToo() throws Exception {
    setFormatVersion(dir.resolve("12.delta"), 3);

    assertThatThrownBy(() -> recover(11))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("format version 3");
    assertThat(files(dir)).contains("12.delta");
  }

  @Test
  void everyDamagedDeltaInTheChainIsDetected() throws Exception {
    for (long v : Set.of(11L, 12L)) {
      Path delta = dir.resolve(v + ".delta");
      byte[] original = Files.readAllBytes(delta);
      for (long offset = 0; offset < original.length; offset++) {
        flipByte(delta, offset);
        assertThatThrownBy(() -> recover(12))
            .as("byte %d of %d.delta flipped", offset, v)
            .isInstanceOf(CheckpointException.class)
            .hasMessageContaining(v + ".delta");
        Files.write(delta, original);
      }
    }
    assertThat(recover(12).view()).isEqualTo(expected.get(12L));
  }
}
