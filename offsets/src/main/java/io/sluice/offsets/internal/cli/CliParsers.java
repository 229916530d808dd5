package io.sluice.offsets.internal.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers of durations and instants with one-line messages. */
final class CliParsers {

  private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private CliParsers() {}

  /**
   * {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or ISO-8601 ({@code PT1H30M});
   * must be > 0.
   */
  static Duration duration(String option, String text) {
    Duration d;
    Matcher m = SIMPLE_DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    try {
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        d =
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              case "h" -> Duration.ofHours(n);
              default -> Duration.ofDays(n);
            };
      } else {
        d = Duration.parse(text.trim().toUpperCase(Locale.ROOT));
      }
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      throw new CliException(
          option + " must be a duration like 30s, 15m, 2h, 1d or PT1H30M, was '" + text + "'");
    }
    if (d.isZero() || d.isNegative()) {
      throw new CliException(option + " must be > 0, was '" + text + "'");
    }
    return d;
  }

  /**
   * An ISO-8601 instant ({@code 2026-11-20T10:00:00Z}) or date-time with offset ({@code
   * ...+01:00}).
   */
  static Instant instant(String option, String text) {
    try {
      return Instant.parse(text.trim());
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(text.trim()).toInstant();
      } catch (DateTimeParseException e2) {
        throw new CliException(
            option
                + " must be an ISO-8601 instant like 2026-11-20T10:00:00Z or "
                + "2026-11-20T11:00:00+01:00, was '"
                + text
                + "'");
      }
    }
  }
}
