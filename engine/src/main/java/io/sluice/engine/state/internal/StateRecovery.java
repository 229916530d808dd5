package io.sluice.engine.state.internal;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.TerminalException;
import io.sluice.engine.state.StateSerde;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds one version of a partition's state from its files. Tries the snapshots at or below the
 * version, newest first (then the empty state, when the deltas reach back to version 0); a base is
 * usable when it and every delta after it up to the version are present and intact. A damaged
 * snapshot is skipped for an older one and, once recovery succeeds without it, renamed to {@code
 * .corrupt} so cleanup never counts on it. A missing or damaged delta that no newer snapshot covers
 * makes the version unrecoverable: a {@link CheckpointException} names every file and problem met.
 * One use per rebuild; blocks on file I/O.
 */
final class StateRecovery<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(StateRecovery.class);
  private static final long EMPTY = -1;

  private final Path dir;
  private final StateSerde<K> keySerde;
  private final StateSerde<V> valueSerde;
  private final StateFiles.Listing listing;
  private final Map<Long, StateFileHeader> intactDeltas = new HashMap<>();
  private final Map<Long, DamagedStateFileException> damagedDeltas = new HashMap<>();
  private final Set<String> problems = new LinkedHashSet<>();
  private boolean deltaFailed;
  private final Map<Path, String> damagedSnapshots = new LinkedHashMap<>();

  StateRecovery(
      Path dir, StateSerde<K> keySerde, StateSerde<V> valueSerde, StateFiles.Listing listing) {
    this.dir = dir;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    this.listing = listing;
  }

  /**
   * Refuses {@code file} when its intact header declares a newer format; damage is left to the
   * rebuild, which may not need the file.
   */
  static void checkFormat(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      StateFileHeader.read(file, ch);
    } catch (DamagedStateFileException | IOException e) {
      // not a format question
    }
  }

  /** The state at {@code version}: -1 is the empty state. */
  Map<K, V> rebuild(long version) {
    if (version == EMPTY) {
      return new HashMap<>();
    }
    for (long base : bases(version)) {
      Map<K, V> state = tryBase(base, version);
      if (state == null && deltaFailed) {
        break; // every older base needs the same delta
      }
      if (state != null) {
        damagedSnapshots.forEach(
            (p, problem) -> {
              LOG.warn(
                  "Recovered state version {} of {} from {} because {}; the file is kept as {}{}",
                  version,
                  dir,
                  base == EMPTY ? "the empty state" : "snapshot " + base,
                  problem,
                  p.getFileName(),
                  StateFiles.CORRUPT);
              StateFiles.quarantine(p);
              listing
                  .snapshots()
                  .remove(Long.parseLong(p.getFileName().toString().split("\\.")[0]));
            });
        return state;
      }
    }
    if (listing.snapshots().floor(version) == null && !listing.deltas().contains(0L)) {
      problems.add("no snapshot at or below version " + version + " and no delta 0.delta");
    } else if (problems.isEmpty()) {
      problems.add("no usable snapshot");
    }
    throw new CheckpointException(
        "cannot recover state version "
            + version
            + " from "
            + dir
            + ": "
            + String.join("; ", problems)
            + ". The state files are damaged or incomplete and no older snapshot with its deltas"
            + " reaches that version; restore the checkpoint directory from a backup, or remove"
            + " this operator's state to rebuild it from an earlier input offset");
  }

  private List<Long> bases(long version) {
    List<Long> bases = new ArrayList<>(listing.snapshots().headSet(version, true).descendingSet());
    if (listing.deltas().contains(0L)) {
      bases.add(EMPTY);
    }
    return bases;
  }

  /** The state rebuilt from {@code base}, or null (with the reason recorded) when unusable. */
  private Map<K, V> tryBase(long base, long version) {
    NavigableSet<Long> needed = listing.deltas().subSet(base, false, version, true);
    if (needed.size() != version - base) {
      long missing = base + 1;
      while (needed.contains(missing)) {
        missing++;
      }
      problems.add(
          "delta "
              + missing
              + ".delta is missing (needed after "
              + (base == EMPTY ? "the empty state" : "snapshot " + base + ".snapshot")
              + ")");
      deltaFailed = true;
      return null;
    }
    for (long d : needed) {
      if (verifyDelta(d) == null) {
        deltaFailed = true;
        return null;
      }
    }
    Map<K, V> state;
    if (base == EMPTY) {
      state = new HashMap<>();
    } else {
      Path file = StateFiles.file(dir, StateFileHeader.Kind.SNAPSHOT, base);
      try {
        StateFileHeader h = StateFileReader.verify(file, StateFileHeader.Kind.SNAPSHOT, base);
        state = new HashMap<>(capacity(h.entries()));
        apply(file, h, state);
      } catch (DamagedStateFileException e) {
        problems.add(e.getMessage());
        damagedSnapshots.put(file, e.getMessage());
        return null;
      }
    }
    for (long d : needed) {
      Path file = StateFiles.file(dir, StateFileHeader.Kind.DELTA, d);
      try {
        apply(file, intactDeltas.get(d), state);
      } catch (DamagedStateFileException e) {
        problems.add(e.getMessage());
        deltaFailed = true;
        return null;
      }
    }
    return state;
  }

  private StateFileHeader verifyDelta(long d) {
    if (damagedDeltas.containsKey(d)) {
      return null;
    }
    StateFileHeader h = intactDeltas.get(d);
    if (h != null) {
      return h;
    }
    Path file = StateFiles.file(dir, StateFileHeader.Kind.DELTA, d);
    try {
      h = StateFileReader.verify(file, StateFileHeader.Kind.DELTA, d);
      intactDeltas.put(d, h);
      return h;
    } catch (DamagedStateFileException e) {
      damagedDeltas.put(d, e);
      problems.add(e.getMessage());
      return null;
    }
  }

  private void apply(Path file, StateFileHeader header, Map<K, V> state)
      throws DamagedStateFileException {
    StateFileReader.read(
        file,
        header,
        new StateFileReader.EntryConsumer() {
          @Override
          public void put(byte[] key, byte[] value) {
            state.put(deserializeKey(file, key), deserializeValue(file, value));
          }

          @Override
          public void remove(byte[] key) {
            state.remove(deserializeKey(file, key));
          }
        });
  }

  private K deserializeKey(Path file, byte[] bytes) {
    try {
      return keySerde.deserialize(bytes);
    } catch (RuntimeException e) {
      throw new TerminalException(
          "cannot read a state key of " + file + " with " + keySerde + ": " + e.getMessage(), e);
    }
  }

  private V deserializeValue(Path file, byte[] bytes) {
    try {
      return valueSerde.deserialize(bytes);
    } catch (RuntimeException e) {
      throw new TerminalException(
          "cannot read a state value of " + file + " with " + valueSerde + ": " + e.getMessage(),
          e);
    }
  }

  private static int capacity(long entries) {
    return (int) Math.min(1 << 30, Math.max(16, entries * 4 / 3 + 1));
  }
}
