package io.sluice.engine.state.internal;

import io.sluice.engine.state.StateSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/** Serdes, a seeded workload with its brute-force model, and file tampering for state tests. */
final class StateTesting {

  static final StateSerde<Integer> INT =
      new StateSerde<>() {
        @Override
        public byte[] serialize(Integer value) {
          return ByteBuffer.allocate(4).putInt(value).array();
        }

        @Override
        public Integer deserialize(byte[] bytes) {
          return ByteBuffer.wrap(bytes).getInt();
        }
      };

  static final StateSerde<String> UTF8 =
      new StateSerde<>() {
        @Override
        public byte[] serialize(String value) {
          return value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
          return new String(bytes, StandardCharsets.UTF_8);
        }
      };

  /** Keys drawn from a small range, so keys are removed and re-added over the batches. */
  static final int KEYS = 40;

  private StateTesting() {}

  static StateStoreSettings settings(int snapshotInterval, int retain) {
    return new StateStoreSettings(snapshotInterval, retain, false);
  }

  static StateStore<Integer, String> open(Path dir, StateStoreSettings settings) {
    return StateStore.open(dir, INT, UTF8, settings);
  }

  /**
   * Applies batch {@code b}'s operations, a function of {@code seed} and {@code b} only (so a
   * replay repeats them), to the store and to the model: puts, removes of present and absent keys,
   * a key put then removed and one removed then put within the batch, and some empty batches.
   */
  static void runBatch(
      StateStore<Integer, String> store, Map<Integer, String> model, long seed, long b) {
    Random r = new Random(seed * 1_000_003L + b);
    int ops = r.nextInt(5) == 0 ? 0 : r.nextInt(30);
    for (int i = 0; i < ops; i++) {
      int key = r.nextInt(KEYS);
      switch (r.nextInt(6)) {
        case 0, 1 -> {
          store.remove(key);
          model.remove(key);
        }
        case 2 -> {
          store.put(key, "tmp");
          store.remove(key);
          model.remove(key);
        }
        case 3 -> {
          store.remove(key);
          store.put(key, "b" + b + "r" + i);
          model.put(key, "b" + b + "r" + i);
        }
        default -> {
          store.put(key, "b" + b + "#" + i);
          model.put(key, "b" + b + "#" + i);
        }
      }
    }
  }

  /** Runs batches {@code from..to} through the full protocol; returns the model after each. */
  static Map<Long, Map<Integer, String>> runCommitted(
      StateStore<Integer, String> store,
      Map<Integer, String> model,
      long seed,
      long from,
      long to) {
    Map<Long, Map<Integer, String>> after = new TreeMap<>();
    for (long b = from; b <= to; b++) {
      store.begin(b);
      runBatch(store, model, seed, b);
      store.prepare(b);
      store.commit(b);
      store.committed(b);
      after.put(b, new HashMap<>(model));
    }
    return after;
  }

  static TreeSet<String> files(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .collect(TreeSet::new, TreeSet::add, TreeSet::addAll);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void copyDir(Path from, Path to) {
    try {
      Files.createDirectories(to);
      try (Stream<Path> s = Files.list(from)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          Files.copy(p, to.resolve(p.getFileName()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void flipByte(Path file, long offset) throws IOException {
    byte[] b = Files.readAllBytes(file);
    b[(int) offset] ^= 0x40;
    Files.write(file, b);
  }

  static void truncate(Path file, long newLength) throws IOException {
    byte[] b = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(b, (int) newLength));
  }

  /**
   * Rewrites the header's format version, with a valid header checksum, as a newer Sluice would.
   */
  static void setFormatVersion(Path file, int format) throws IOException {
    byte[] b = Files.readAllBytes(file);
    ByteBuffer buf = ByteBuffer.wrap(b);
    buf.putShort(4, (short) format);
    int headerLength = Short.toUnsignedInt(buf.getShort(6));
    CRC32C crc = new CRC32C();
    crc.update(b, 0, 8);
    crc.update(b, 12, headerLength - 12);
    buf.putInt(8, (int) crc.getValue());
    Files.write(file, b);
  }
}
