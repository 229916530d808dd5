package io.sluice.engine.state.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.TerminalException;
import io.sluice.engine.state.StateSerde;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store with the default Jackson serdes: record keys and values survive a restart. */
class JsonStateStoreTest {

  record Key(String user, int shard) {}

  record Total(long sum, List<Long> last) {}

  @TempDir Path dir;

  @Test
  void recordKeysAndValuesSurviveARestart() {
    StateStore<Key, Total> store =
        StateStore.open(
            dir,
            StateSerde.json(Key.class),
            StateSerde.json(Total.class),
            StateStoreSettings.defaults().withFsync(true));
    store.recover(-1);
    for (long b = 0; b < 12; b++) {
      store.begin(b);
      for (int u = 0; u < 5; u++) {
        Key k = new Key("u" + u, u % 2);
        Total t = store.get(k);
        store.put(k, t == null ? new Total(b, List.of(b)) : new Total(t.sum() + b, List.of(b)));
      }
      store.remove(new Key("u4", 0));
      store.prepare(b);
      store.commit(b);
      store.committed(b);
    }

    StateStore<Key, Total> restarted =
        StateStore.open(
            dir,
            StateSerde.json(Key.class),
            StateSerde.json(Total.class),
            StateStoreSettings.defaults());
    restarted.recover(11);

    assertThat(restarted.size()).isEqualTo(4);
    assertThat(restarted.get(new Key("u1", 1))).isEqualTo(new Total(66, List.of(11L)));
    assertThat(restarted.get(new Key("u4", 0))).isNull();
  }

  @Test
  void stateTheSerdeCannotReadIsRefusedNamingTheFile() {
    StateStore<String, String> store =
        StateStore.open(dir, StateTesting.UTF8, StateTesting.UTF8, StateStoreSettings.defaults());
    store.recover(-1);
    store.begin(0);
    store.put("k", "not json");
    store.prepare(0);
    store.commit(0);
    store.committed(0);

    StateStore<String, Total> changed =
        StateStore.open(
            dir, StateTesting.UTF8, StateSerde.json(Total.class), StateStoreSettings.defaults());

    assertThatThrownBy(() -> changed.recover(0))
        .isInstanceOf(TerminalException.class)
        .hasMessageContaining("cannot read a state value of")
        .hasMessageContaining("0.snapshot");
  }

  @Test
  void aValueTheSerdeCannotWriteFailsThePrepareAndLeavesNoFile() {
    StateSerde<String> failing =
        new StateSerde<>() {
          @Override
          public byte[] serialize(String value) {
            if (value.equals("bad")) {
              throw new IllegalArgumentException("no");
            }
            return value.getBytes(StandardCharsets.UTF_8);
          }

          @Override
          public String deserialize(byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
          }
        };
    StateStore<String, String> store =
        StateStore.open(dir, StateTesting.UTF8, failing, StateStoreSettings.defaults());
    store.recover(-1);
    store.begin(0);
    store.put("k", "bad");

    assertThatThrownBy(() -> store.prepare(0))
        .isInstanceOf(TerminalException.class)
        .hasMessageContaining("state value of key k");
    assertThat(StateTesting.files(dir)).isEmpty();
    store.abort();
    assertThat(store.size()).isZero();
  }
}
