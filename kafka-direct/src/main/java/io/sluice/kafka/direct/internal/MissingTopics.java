package io.sluice.kafka.direct.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns while topics a stream names do not exist: at once when a topic goes missing, then at most
 * once per {@link #INTERVAL} while any stays missing, so a stream planning a batch a second does
 * not flood the log. A topic that exists again is forgotten, and warned of at once if it goes
 * missing again. Driver thread only.
 */
public final class MissingTopics {

  /** The least time between two warnings about the same missing topics. */
  public static final Duration INTERVAL = Duration.ofMinutes(1);

  private static final Logger log = LoggerFactory.getLogger(MissingTopics.class);

  private final String stream;
  private final String strategy;
  private final Clock clock;
  private SortedSet<String> warned = new TreeSet<>();
  private Instant lastWarning;

  /**
   * @param stream the stream's name, for the message
   * @param strategy the consumer strategy's description, for the message
   * @param clock when the last warning was, so a test needs no sleep
   */
  public MissingTopics(String stream, String strategy, Clock clock) {
    this.stream = Objects.requireNonNull(stream, "stream");
    this.strategy = Objects.requireNonNull(strategy, "strategy");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Takes the named topics that do not exist now ({@code named} minus {@code existing}) and warns
   * when due.
   *
   * @return whether it logged a warning
   */
  public boolean update(Set<String> named, Collection<String> existing) {
    SortedSet<String> missing = new TreeSet<>(named);
    missing.removeAll(existing);
    warned.retainAll(missing);
    if (missing.isEmpty()) {
      lastWarning = null;
      return false;
    }
    Instant now = clock.instant();
    boolean newlyMissing = !warned.containsAll(missing);
    if (!newlyMissing && lastWarning != null && now.isBefore(lastWarning.plus(INTERVAL))) {
      return false;
    }
    log.warn(
        "stream {}: topic(s) {} of {} do not exist; the stream reads them from their earliest offset once"
            + " they are created (check the names; warned again at most once a minute while missing)",
        stream,
        missing,
        strategy);
    warned = missing;
    lastWarning = now;
    return true;
  }
}
