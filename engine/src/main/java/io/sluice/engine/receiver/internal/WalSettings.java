package io.sluice.engine.receiver.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link WriteAheadLog} rolls and syncs. Immutable, validated on construction.
 *
 * @param segmentBytes a segment rolls before an append would take it past this size; a record
 *     larger than this gets a segment of its own
 * @param segmentAge a segment whose first record is at least this old rolls at the next append
 * @param syncInterval for {@link WriteAheadLog#appendAsync}: the background syncer forces the log
 *     at most once per interval, so appends arriving within one interval share one fsync; {@link
 *     Duration#ZERO} starts no syncer, and then only {@link WriteAheadLog#sync()} completes them
 */
public record WalSettings(long segmentBytes, Duration segmentAge, Duration syncInterval) {

  /** 64 MiB segments. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

  /** Segments roll after an hour at the latest, so old data can be deleted in bounded pieces. */
  public static final Duration DEFAULT_SEGMENT_AGE = Duration.ofHours(1);

  /** One fsync per 10 ms at most. */
  public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofMillis(10);

  /** The smallest segment size accepted. */
  public static final long MIN_SEGMENT_BYTES = 4096;

  /** Checks every setting; messages name the setting and its value. */
  public WalSettings {
    Objects.requireNonNull(segmentAge, "segmentAge");
    Objects.requireNonNull(syncInterval, "syncInterval");
    if (segmentBytes < MIN_SEGMENT_BYTES) {
      throw new IllegalArgumentException(
          "segmentBytes must be >= " + MIN_SEGMENT_BYTES + ", was " + segmentBytes);
    }
    if (segmentAge.isNegative() || segmentAge.isZero()) {
      throw new IllegalArgumentException("segmentAge must be > 0, was " + segmentAge);
    }
    if (syncInterval.isNegative()) {
      throw new IllegalArgumentException("syncInterval must be >= 0, was " + syncInterval);
    }
  }

  /** The defaults: 64 MiB, one hour, 10 ms. */
  public static WalSettings defaults() {
    return new WalSettings(DEFAULT_SEGMENT_BYTES, DEFAULT_SEGMENT_AGE, DEFAULT_SYNC_INTERVAL);
  }

  /** A copy with another segment size. */
  public WalSettings withSegmentBytes(long bytes) {
    return new WalSettings(bytes, segmentAge, syncInterval);
  }

  /** A copy with another segment age. */
  public WalSettings withSegmentAge(Duration age) {
    return new WalSettings(segmentBytes, age, syncInterval);
  }

  /** A copy with another sync interval. */
  public WalSettings withSyncInterval(Duration interval) {
    return new WalSettings(segmentBytes, segmentAge, interval);
  }
}
