package io.sluice.engine.dstream.internal;

import java.time.Duration;

/** Checks of window durations. */
final class Durations {

  private Durations() {}

  static void requireMultiple(
      String operator, String what, Duration d, String ofWhat, Duration unit) {
    if (d.isNegative()
        || d.isZero()
        || d.toMillis() % unit.toMillis() != 0
        || d.toNanos() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          "operator '"
              + operator
              + "': "
              + what
              + " "
              + d.toMillis()
              + " ms ("
              + d
              + ") must be a positive multiple of the "
              + ofWhat
              + " "
              + unit.toMillis()
              + " ms ("
              + unit
              + ")");
    }
  }

  /**
   * Checks a window operator's length and slide against the batch interval and its parent's slide.
   */
  static void requireWindow(
      String operator,
      Duration length,
      Duration slide,
      Duration batchInterval,
      Duration parentSlide) {
    requireMultiple(operator, "window length", length, "batch interval", batchInterval);
    requireMultiple(operator, "slide", slide, "batch interval", batchInterval);
    requireMultiple(operator, "window length", length, "parent's slide", parentSlide);
    requireMultiple(operator, "slide", slide, "parent's slide", parentSlide);
  }
}
