package io.sluice.kafka.direct.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;

/**
 * The meters of one direct stream, all under {@code sluice.kafka.} and tagged with the stream's
 * name; per-partition meters are also tagged with topic and partition. Thread-safe.
 */
public final class KafkaMetrics {

  /** Records read per batch from one partition. */
  public static final String PARTITION_RECORDS = "sluice.kafka.partition.records";

  /** Latest (or last stable) offset minus the batch's until offset. */
  public static final String PARTITION_LAG = "sluice.kafka.partition.lag";

  /** The last committed next offset. */
  public static final String PARTITION_COMMITTED = "sluice.kafka.partition.committed";

  /** Time spent planning one batch on the driver. */
  public static final String PLANNING_TIME = "sluice.kafka.planning.time";

  /** Time one task spent reading its range. */
  public static final String FETCH_TIME = "sluice.kafka.fetch.time";

  /** Records that could not be deserialized, tagged with the policy applied. */
  public static final String BAD_RECORDS = "sluice.kafka.bad.records";

  /** Offsets skipped because they were deleted, under the SKIP data-loss policy. */
  public static final String DATA_LOSS_OFFSETS = "sluice.kafka.data.loss.offsets";

  private final MeterRegistry registry;
  private final String stream;
  private final Map<TopicPartition, AtomicLong> lag = new ConcurrentHashMap<>();
  private final Map<TopicPartition, AtomicLong> committed = new ConcurrentHashMap<>();
  private final Timer planning;
  private final Timer fetch;
  private final Counter dataLoss;

  /** Creates the stream's meters in {@code registry}. */
  public KafkaMetrics(MeterRegistry registry, String stream) {
    this.registry = registry;
    this.stream = stream;
    this.planning = Timer.builder(PLANNING_TIME).tag("stream", stream).register(registry);
    this.fetch = Timer.builder(FETCH_TIME).tag("stream", stream).register(registry);
    this.dataLoss = Counter.builder(DATA_LOSS_OFFSETS).tag("stream", stream).register(registry);
  }

  private Tags tags(TopicPartition tp) {
    return Tags.of(
        "stream", stream, "topic", tp.topic(), "partition", Integer.toString(tp.partition()));
  }

  /** Records how many records a task read from {@code tp} for one batch. */
  public void recordsRead(TopicPartition tp, long count) {
    DistributionSummary.builder(PARTITION_RECORDS).tags(tags(tp)).register(registry).record(count);
  }

  /** Sets the lag of {@code tp} after planning a batch. */
  public void lag(TopicPartition tp, long value) {
    gauge(lag, PARTITION_LAG, tp).set(value);
  }

  /** Sets the committed next offset of {@code tp}. */
  public void committed(TopicPartition tp, long offset) {
    gauge(committed, PARTITION_COMMITTED, tp).set(offset);
  }

  /**
   * Removes the lag and committed gauges of {@code tp}: in group mode, a partition that went to
   * another member is reported by that member.
   */
  public void forget(TopicPartition tp) {
    if (lag.remove(tp) != null) {
      registry.find(PARTITION_LAG).tags(tags(tp)).meters().forEach(registry::remove);
    }
    if (committed.remove(tp) != null) {
      registry.find(PARTITION_COMMITTED).tags(tags(tp)).meters().forEach(registry::remove);
    }
  }

  private AtomicLong gauge(Map<TopicPartition, AtomicLong> values, String name, TopicPartition tp) {
    return values.computeIfAbsent(
        tp,
        k -> {
          AtomicLong v = new AtomicLong();
          Gauge.builder(name, v, AtomicLong::doubleValue).tags(tags(k)).register(registry);
          return v;
        });
  }

  /** Records one batch's planning time. */
  public void planningTime(Duration d) {
    planning.record(d);
  }

  /** Records one range's fetch time. */
  public void fetchTime(Duration d) {
    fetch.record(d);
  }

  /** Counts a bad record handled by {@code policy} ({@code skip} or {@code dead-letter}). */
  public void badRecord(String policy) {
    Counter.builder(BAD_RECORDS)
        .tag("stream", stream)
        .tag("policy", policy)
        .register(registry)
        .increment();
  }

  /** Counts offsets skipped by the SKIP data-loss policy. */
  public void dataLoss(long offsets) {
    dataLoss.increment(offsets);
  }
}
