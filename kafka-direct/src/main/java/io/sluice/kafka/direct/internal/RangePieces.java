package io.sluice.kafka.direct.internal;

import io.sluice.offsets.OffsetRange;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a batch's ranges into the contiguous pieces its tasks read, for {@link
 * io.sluice.kafka.direct.DirectStreamOptions#minPartitions}.
 */
final class RangePieces {

  private RangePieces() {}

  /**
   * The ranges themselves when they hold at least {@code minPartitions} non-empty ranges (or
   * nothing to read); else each non-empty range cut into {@code ceil(count * minPartitions /
   * total)} pieces of nearly equal size (at most one per offset), in the ranges' order. Empty
   * ranges stay as they are.
   */
  static List<OffsetRange> split(List<OffsetRange> ranges, int minPartitions) {
    long total = 0;
    int nonEmpty = 0;
    for (OffsetRange r : ranges) {
      total += r.count();
      if (!r.isEmpty()) {
        nonEmpty++;
      }
    }
    if (nonEmpty >= minPartitions || total == 0) {
      return ranges;
    }
    List<OffsetRange> pieces = new ArrayList<>();
    for (OffsetRange r : ranges) {
      long count = r.count();
      long parts = Math.min(count, (long) Math.ceil((double) count * minPartitions / total));
      if (parts <= 1) {
        pieces.add(r);
        continue;
      }
      for (long i = 0; i < parts; i++) {
        long from = r.fromOffset() + count * i / parts;
        long until = r.fromOffset() + count * (i + 1) / parts;
        pieces.add(new OffsetRange(r.topic(), r.partition(), from, until));
      }
    }
    return List.copyOf(pieces);
  }
}
