package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.offsets.internal.FileOffsetStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileOffsetStoreContractTest extends OffsetStoreContractTest {

  @TempDir Path dir;

  @Override
  protected OffsetStore newStore() {
    return OffsetStores.file(dir);
  }

  @Override
  protected OffsetStore newStoreKeeping(int batches) {
    return OffsetStores.fileBuilder().dir(dir).historyRetention(batches).build();
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.fileBuilder()
        .dir(dir)
        .commitHook(
            c -> {
              throw new IOException("injected failure after half of the entry was written");
            })
        .build();
  }

  @Test
  void resetAppendedByASecondInstanceIsSeenByTheFirstInstancesNextCommit() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    store.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20)));
    // The first instance holds the log in memory; the second stands for the command line's process.
    try (OffsetStore cli = OffsetStores.file(dir)) {
      cli.reset(group, Map.of(tp(ORDERS, 0), 5L));
    }

    assertThatThrownBy(() -> store.commit(batch(group, 3, new OffsetRange(ORDERS, 0, 20, 30))))
        .isInstanceOfSatisfying(
            OffsetFencedException.class, e -> assertThat(e.storedOffset()).isEqualTo(5));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 5L));
    store.commit(batch(group, 3, new OffsetRange(ORDERS, 0, 5, 30)));
  }

  @Test
  void resetIsSeenAfterTheSecondInstanceRewroteTheLog() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    String busy = group + "-busy";
    try (OffsetStore other = OffsetStores.fileBuilder().dir(dir).historyRetention(5).build()) {
      // Enough entries for the second instance to compact the log into a new generation.
      for (long id = 0; id < 1030; id++) {
        other.commit(batch(busy, id, new OffsetRange(PAYMENTS, 0, id, id + 1)));
      }
      other.reset(group, Map.of(tp(ORDERS, 0), 5L));
    }

    assertThatThrownBy(() -> store.commit(batch(group, 2, new OffsetRange(ORDERS, 0, 10, 20))))
        .isInstanceOfSatisfying(
            OffsetFencedException.class, e -> assertThat(e.storedOffset()).isEqualTo(5));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
    assertThat(store.lastBatchId(busy)).isEqualTo(OptionalLong.of(1029));
  }

  @Test
  void readOnlyStoreCreatesNothingAndRefusesWrites(@TempDir Path empty) throws IOException {
    Path missing = empty.resolve("typo").resolve("deep");
    assertThatThrownBy(() -> FileOffsetStore.openReadOnly(missing, Clock.systemUTC()))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessage("the offsets directory " + missing + " does not exist");
    assertThat(Files.exists(empty.resolve("typo"))).isFalse();

    try (OffsetStore readOnly = FileOffsetStore.openReadOnly(empty, Clock.systemUTC())) {
      assertThat(readOnly.committed(group)).isEmpty();
      assertThat(readOnly.history(group, 5)).isEmpty();
    }
    try (Stream<Path> files = Files.list(empty)) {
      assertThat(files).isEmpty();
    }

    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    try (OffsetStore readOnly = FileOffsetStore.openReadOnly(dir, Clock.systemUTC())) {
      assertThat(readOnly.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L));
      assertThatThrownBy(() -> readOnly.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20))))
          .isInstanceOf(OffsetStoreException.class)
          .hasMessageContaining("was opened read-only");
      assertThatThrownBy(() -> readOnly.reset(group, Map.of(tp(ORDERS, 0), 0L)))
          .isInstanceOf(OffsetStoreException.class)
          .hasMessageContaining("was opened read-only");
    }
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L));
  }
}
