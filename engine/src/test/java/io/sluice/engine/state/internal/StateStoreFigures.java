package io.sluice.engine.state.internal;

import io.sluice.engine.state.StateSerde;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints rough figures (not assertions): a 10 k-key delta and a 1 M-key snapshot with fsync, and
 * recovery of 1 M keys, with a binary serde and with the Jackson default. Run with {@code
 * -Dsluice.state.figures=true}; the bench module will hold the real benchmark.
 */
@EnabledIfSystemProperty(named = "sluice.state.figures", matches = "true")
class StateStoreFigures {

  record Key(long id) {}

  record Count(long n) {}

  static final StateSerde<Long> LONG =
      new StateSerde<>() {
        @Override
        public byte[] serialize(Long value) {
          return ByteBuffer.allocate(8).putLong(value).array();
        }

        @Override
        public Long deserialize(byte[] bytes) {
          return ByteBuffer.wrap(bytes).getLong();
        }
      };

  @TempDir Path tmp;

  @Test
  void binary() {
    for (int run = 0; run < 3; run++) {
      measure("binary long->long run " + run, tmp.resolve("b" + run), LONG, LONG, k -> k, k -> k);
    }
  }

  @Test
  void json() {
    for (int run = 0; run < 3; run++) {
      measure(
          "json record->record run " + run,
          tmp.resolve("j" + run),
          StateSerde.json(Key.class),
          StateSerde.json(Count.class),
          Key::new,
          Count::new);
    }
  }

  private <K, V> void measure(
      String name,
      Path dir,
      StateSerde<K> ks,
      StateSerde<V> vs,
      java.util.function.LongFunction<K> key,
      java.util.function.LongFunction<V> value) {
    int keys = 1_000_000;
    StateStoreSettings settings =
        new StateStoreSettings(10, 20, !Boolean.getBoolean("sluice.state.figures.nofsync"));
    StateStore<K, V> store = StateStore.open(dir, ks, vs, settings);
    store.recover(-1);
    store.begin(0);
    for (long k = 0; k < keys; k++) {
      store.put(key.apply(k), value.apply(k));
    }
    store.prepare(0);
    store.commit(0);
    store.committed(0);

    long deltaNanos = 0;
    StateStore.PersistStats delta = null;
    long snapNanos = 0;
    StateStore.PersistStats snap = null;
    for (long b = 1; b <= 10; b++) { // 1 % of the keys per batch: 10 000
      store.begin(b);
      for (long k = b; k < keys; k += 100) {
        store.put(key.apply(k), value.apply(k + b));
      }
      long t = System.nanoTime();
      StateStore.PersistStats stats = store.prepare(b);
      store.commit(b);
      long nanos = System.nanoTime() - t;
      store.committed(b);
      if (b < 10) {
        deltaNanos += nanos;
        delta = stats;
      } else {
        snapNanos = nanos;
        snap = stats;
      }
    }
    store.close();

    long t2 = System.nanoTime();
    StateStore<K, V> recovered = StateStore.open(dir, ks, vs, settings);
    recovered.recover(9);
    long recoverNanos = System.nanoTime() - t2;

    System.out.printf(
        "FIGURES %s: delta only (%d entries) %.1f ms avg of 9, %d bytes; batch 10 delta + snapshot"
            + " (%d keys) %d ms, snapshot %d bytes; recover v9 = snapshot 0 (1 M keys) + 9 deltas"
            + " %d ms, %d keys%n",
        name,
        delta.deltaEntries(),
        deltaNanos / 9 / 1e6,
        delta.deltaBytes(),
        snap.snapshotEntries(),
        snapNanos / 1_000_000,
        snap.snapshotBytes(),
        recoverNanos / 1_000_000,
        recovered.size());
  }
}
