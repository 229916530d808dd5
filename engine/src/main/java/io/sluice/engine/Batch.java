package io.sluice.engine;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One micro-batch: its consecutive id, its batch time and the plan of every input, keyed by input
 * name.
 *
 * <p>Immutable. The same batch (same id, time and plans) is seen again when a batch recovered from
 * the batch log is replayed, so sinks can deduplicate on {@code (id, partition)}.
 *
 * @param id batch id: 0, 1, 2, ... without gaps
 * @param time the batch time (a multiple of the batch interval after the context's start)
 * @param plans each input's plan keyed by {@code InputDStream.name()}, in input registration order
 */
public record Batch(long id, Instant time, Map<String, Object> plans) {

  /** Validates and copies the plans (insertion order kept). */
  public Batch {
    if (id < 0) {
      throw new IllegalArgumentException("batch id must be >= 0, was " + id);
    }
    Objects.requireNonNull(time, "time");
    plans =
        Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(plans, "plans")));
  }

  /**
   * The plan of input {@code inputName} if it exists and has type {@code type}.
   *
   * @throws ClassCastException if the plan exists but is not a {@code type}
   */
  public <P> Optional<P> plan(String inputName, Class<P> type) {
    Object p = plans.get(inputName);
    return p == null ? Optional.empty() : Optional.of(type.cast(p));
  }

  /** Every input's plan, in input registration order. */
  public List<Object> planList() {
    return List.copyOf(new ArrayList<>(plans.values()));
  }
}
