package io.sluice.engine.state.internal;

/**
 * How a {@link StateStore} persists and how much history it keeps. Immutable; validated on
 * construction with messages that name the setting.
 *
 * @param snapshotInterval a snapshot is written for every version that is a multiple of it (a delta
 *     is written for every version); at least 1
 * @param retainVersions how many of the newest committed versions stay recoverable; cleanup keeps
 *     the newest snapshot at or below the oldest of them and every delta after that snapshot. At
 *     least 1; more than {@code snapshotInterval} keeps an older snapshot to fall back on when the
 *     newest is damaged
 * @param fsync whether files and directory entries are forced to disk before a persist returns; off
 *     only for tests and benchmarks that do not survive power loss
 */
public record StateStoreSettings(int snapshotInterval, int retainVersions, boolean fsync) {

  /** Snapshot every 10 versions. */
  public static final int DEFAULT_SNAPSHOT_INTERVAL = 10;

  /** Validates the settings. */
  public StateStoreSettings {
    if (snapshotInterval < 1) {
      throw new IllegalArgumentException("snapshotInterval must be >= 1, was " + snapshotInterval);
    }
    if (retainVersions < 1) {
      throw new IllegalArgumentException("retainVersions must be >= 1, was " + retainVersions);
    }
  }

  /**
   * Snapshot every 10 versions, retain 20 (so an older snapshot always backs the newest), fsync.
   */
  public static StateStoreSettings defaults() {
    return new StateStoreSettings(DEFAULT_SNAPSHOT_INTERVAL, 2 * DEFAULT_SNAPSHOT_INTERVAL, true);
  }

  /** These settings with another snapshot interval. */
  public StateStoreSettings withSnapshotInterval(int interval) {
    return new StateStoreSettings(interval, retainVersions, fsync);
  }

  /** These settings with another retention. */
  public StateStoreSettings withRetainVersions(int retain) {
    return new StateStoreSettings(snapshotInterval, retain, fsync);
  }

  /** These settings with fsync on or off. */
  public StateStoreSettings withFsync(boolean on) {
    return new StateStoreSettings(snapshotInterval, retainVersions, on);
  }

  /** Whether a snapshot is written for {@code version}. */
  public boolean isSnapshotVersion(long version) {
    return version % snapshotInterval == 0;
  }
}
