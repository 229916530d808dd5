package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.ConsumerStrategy;
import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.StreamStartException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StartingOffsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans a direct stream's batches on the driver: which partitions exist, how far each may advance
 * (latest or last stable offset, rate limits), what happens to lost offsets. Holds the stream's
 * position (the next offset of every partition), which only planning and {@link #restore} move.
 * Driver thread only, except {@link #onRateUpdate} (any thread).
 */
public final class DirectPlanner implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DirectPlanner.class);
  private static final Comparator<OffsetRange> ORDER =
      Comparator.comparing(OffsetRange::topic).thenComparingInt(OffsetRange::partition);

  private final ConsumerStrategy<?, ?> strategy;
  private final DirectStreamOptions options;
  private final DriverConsumer consumer;
  private final StartOffsetResolver resolver;
  private final KafkaMetrics metrics;
  private final String group;
  private final String name;
  private final long intervalMillis;
  private final Map<TopicPartition, Long> bounds;
  private final boolean followRate;
  private volatile long estimatedRate = -1;
  private Map<TopicPartition, Long> position;
  private boolean exhausted;
  private MissingTopics missingTopics;
  // The topic listing taken when the stream started, and when (nanoTime): it serves the start's
  // resolution and the first plan, within one batch interval, rather than a round trip each.
  private Map<String, List<PartitionInfo>> startListing;
  private long startListedAt;
  // Group mode: the member the partitions come from, those assigned and not yet positioned, and
  // the last batch planned (a revocation waits for it to commit).
  private GroupMember member;
  private final Set<TopicPartition> toStart = new HashSet<>();
  private long lastPlanned = -1;
  private long nextPendingWarning;

  /** Creates a planner; nothing is resolved before the first {@link #plan()}. */
  public DirectPlanner(
      String name,
      String group,
      ConsumerStrategy<?, ?> strategy,
      DirectStreamOptions options,
      DriverConsumer consumer,
      StartOffsetResolver resolver,
      KafkaMetrics metrics,
      Duration batchInterval) {
    this.name = name;
    this.group = group;
    this.strategy = strategy;
    this.options = options;
    this.consumer = consumer;
    this.resolver = resolver;
    this.metrics = metrics;
    this.intervalMillis = batchInterval.toMillis();
    this.followRate = options.backpressure().orElse(true);
    if (options.startingOffsets().orElse(null) instanceof StartingOffsets.Bounded b) {
      bounds = new HashMap<>();
      b.ranges().forEach(r -> bounds.put(r.topicPartition(), r.untilOffset()));
    } else {
      bounds = null;
    }
  }

  /**
   * Opens the driver consumer for {@code strategy}'s parameters and creates a planner that owns it.
   * Blocking only for the consumer's construction. Each of the consumer's calls gives up after the
   * stream's poll timeout.
   */
  public static DirectPlanner open(
      String name,
      ConsumerStrategy<?, ?> strategy,
      DirectStreamOptions options,
      KafkaMetrics metrics,
      Duration batchInterval) {
    Map<String, Object> params = strategy.kafkaParams();
    String group = KafkaParams.group(params);
    if (group == null) {
      throw new IllegalArgumentException(
          "kafkaParams must set group.id (the stream's consumer group and offset store key) for "
              + strategy.describe());
    }
    // Bounded like the tasks, so an unreachable cluster fails start and planning within the poll
    // timeout.
    DriverConsumer driver =
        new DriverConsumer(
            new KafkaConsumer<>(KafkaParams.driverConsumer(params)), options.pollTimeout());
    StartingOffsets fallback =
        KafkaParams.resetToLatest(params) ? StartingOffsets.latest() : StartingOffsets.earliest();
    StartOffsetResolver resolver =
        new StartOffsetResolver(driver, group, options.offsetStore().orElse(null), fallback);
    return new DirectPlanner(
        name, group, strategy, options, driver, resolver, metrics, batchInterval);
  }

  /** The driver consumer, for commits to the Kafka consumer group. */
  public DriverConsumer driver() {
    return consumer;
  }

  /** Closes the driver consumer; idempotent. */
  @Override
  public void close() {
    consumer.close();
  }

  /** Continues after {@code lastPlan}: every partition's next offset is its range's until. */
  public synchronized void restore(KafkaBatchPlan lastPlan) {
    position = new HashMap<>();
    lastPlan.ranges().forEach(r -> position.put(r.topicPartition(), r.untilOffset()));
    exhausted = lastPlan.last();
  }

  /**
   * Where the stream would start for {@code start} (null: the committed position with the group's
   * fallback), for every partition the strategy selects now. Blocking; does not move the position.
   */
  public synchronized Map<TopicPartition, Long> resolve(StartingOffsets start) {
    return resolver.resolve(start, partitions());
  }

  /** Starts the next plan at {@code next}; partitions absent from it are found by the next plan. */
  public synchronized void startAt(Map<TopicPartition, Long> next) {
    position = new HashMap<>(next);
    exhausted = false;
  }

  /** The rate estimator's latest total rate, records/s. */
  public void onRateUpdate(long recordsPerSecond) {
    if (followRate) {
      estimatedRate = recordsPerSecond;
    }
  }

  /** Whether a bounded replay has planned its last batch. */
  public synchronized boolean exhausted() {
    return exhausted;
  }

  /** A copy of the next offset of every partition, or empty before the first plan. */
  public synchronized Map<TopicPartition, Long> position() {
    return position == null ? Map.of() : Map.copyOf(position);
  }

  /**
   * Group mode: from now on the planned partitions are those {@code member} assigns ({@link
   * #assigned}, {@link #release}), and the member follows the topics the strategy selects.
   */
  synchronized void planFor(GroupMember member) {
    this.member = member;
  }

  /** Group mode: partitions assigned to this member; the next plan starts them. */
  synchronized void assigned(Collection<TopicPartition> partitions) {
    toStart.addAll(partitions);
  }

  /**
   * Group mode: stops planning {@code partitions}; returns the last batch planned, which (with
   * every batch before it) must commit before they go to another member.
   */
  synchronized long release(Collection<TopicPartition> partitions) {
    toStart.removeAll(partitions);
    if (position != null) {
      partitions.forEach(position::remove);
    }
    partitions.forEach(metrics::forget);
    return lastPlanned;
  }

  /** The topics the strategy selects now; blocking. */
  synchronized Set<String> selectedTopics() {
    Set<String> topics = new TreeSet<>();
    partitions().forEach(tp -> topics.add(tp.topic()));
    return topics;
  }

  /**
   * Plans the next batch and advances the stream's position to the plan's until offsets. Blocking.
   */
  public synchronized KafkaBatchPlan plan() {
    return plan(lastPlanned + 1);
  }

  /**
   * Plans batch {@code batchId} and advances the stream's position to the plan's until offsets.
   * Blocking.
   */
  public synchronized KafkaBatchPlan plan(long batchId) {
    long started = System.nanoTime();
    Set<TopicPartition> partitions = partitions();
    if (member != null) {
      member.check();
      Set<String> topics = new TreeSet<>();
      partitions.forEach(tp -> topics.add(tp.topic()));
      member.subscribe(topics);
      if (position == null) {
        position = new HashMap<>();
      }
      startAssigned();
    } else {
      if (position == null) {
        position = resolver.resolve(options.startingOffsets().orElse(null), partitions);
        log.info("stream {} starts at {}", name, position);
      }
      discover(partitions);
    }
    lastPlanned = batchId;
    startListing = null;
    Map<TopicPartition, Long> latest = consumer.endOffsets(position.keySet());
    List<KafkaBatchPlan.Skip> skipped = checkDataLoss(latest);
    Map<TopicPartition, Long> lag = new HashMap<>();
    position.forEach(
        (tp, from) -> lag.put(tp, Math.max(0, cappedLatest(tp, latest.get(tp)) - from)));
    Map<TopicPartition, Long> advance =
        RateLimits.split(
            lag,
            intervalMillis,
            options.maxRatePerPartition(),
            options.minRatePerPartition(),
            totalRate());
    List<OffsetRange> ranges = new ArrayList<>();
    boolean last = bounds != null;
    for (Map.Entry<TopicPartition, Long> e : position.entrySet()) {
      TopicPartition tp = e.getKey();
      long from = e.getValue();
      long until = from + advance.getOrDefault(tp, 0L);
      ranges.add(OffsetRange.of(tp, from, until));
      e.setValue(until);
      metrics.lag(tp, Math.max(0, latest.get(tp) - until));
      if (bounds != null && until < bounds.getOrDefault(tp, until)) {
        last = false;
      }
    }
    ranges.sort(ORDER);
    exhausted = last;
    metrics.planningTime(Duration.ofNanos(System.nanoTime() - started));
    return new KafkaBatchPlan(group, ranges, last, skipped);
  }

  /**
   * Positions the partitions assigned since the last plan at the group's committed offsets (the
   * group's {@code auto.offset.reset} where none). A committed offset still pending in the previous
   * owner's transaction (a process killed mid-commit: its transaction stays open until the
   * transaction timeout aborts it) cannot be read yet: such partitions wait for a later plan.
   */
  private void startAssigned() {
    if (toStart.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> committed;
    try {
      Duration wait = Duration.ofMillis(Math.max(200, Math.min(intervalMillis, 2_000)));
      committed =
          options.offsetStore().isPresent()
              ? options.offsetStore().get().committed(group, Set.copyOf(toStart))
              : consumer.committed(Set.copyOf(toStart), wait);
    } catch (KafkaException | OffsetStoreException e) {
      long now = System.nanoTime();
      if (now - nextPendingWarning >= 0) {
        nextPendingWarning = now + Duration.ofSeconds(10).toNanos();
        log.warn(
            "stream {}: the committed offsets of newly assigned {} are not readable yet ({}); an"
                + " open transaction of their previous owner holds them until it commits or times"
                + " out; trying again at the next batch",
            name,
            toStart,
            e.toString());
      }
      return;
    }
    Set<TopicPartition> fresh = new HashSet<>(toStart);
    fresh.removeAll(committed.keySet());
    Map<TopicPartition, Long> start = new HashMap<>(committed);
    if (!fresh.isEmpty()) {
      start.putAll(
          KafkaParams.resetToLatest(strategy.kafkaParams())
              ? consumer.endOffsets(fresh)
              : consumer.beginningOffsets(fresh));
    }
    log.info("stream {} starts assigned partitions at {} (no commit yet: {})", name, start, fresh);
    position.putAll(start);
    toStart.clear();
  }

  private long cappedLatest(TopicPartition tp, long latest) {
    return bounds == null ? latest : Math.min(latest, bounds.getOrDefault(tp, latest));
  }

  private OptionalLong totalRate() {
    if (estimatedRate >= 0) {
      return OptionalLong.of(estimatedRate);
    }
    if (options.initialRate().isPresent()) {
      return options.initialRate();
    }
    if (options.backpressure().orElse(false)) {
      return OptionalLong.of(DirectStreamOptions.DEFAULT_BACKPRESSURE_INITIAL_RATE);
    }
    return OptionalLong.empty();
  }

  /**
   * Checks when the stream starts that the cluster answers within the poll timeout, and warns of
   * named topics that do not exist (see {@link MissingTopics}). Blocking, up to the poll timeout.
   *
   * @throws StreamStartException naming the bootstrap servers and the group when the cluster does
   *     not answer
   */
  synchronized void checkCluster() {
    Map<String, List<PartitionInfo>> topics;
    try {
      topics = consumer.listTopics();
    } catch (KafkaException e) {
      String stream = "stream " + name + " (group '" + group + "')";
      String cluster =
          "the Kafka cluster at bootstrap.servers="
              + KafkaParams.bootstrapServers(strategy.kafkaParams());
      if (e instanceof TimeoutException) {
        throw new StreamStartException(
            stream
                + " cannot reach "
                + cluster
                + " within "
                + consumer.timeout().toMillis()
                + " ms (pollTimeout); is it running, and is bootstrap.servers right?",
            e,
            true);
      }
      throw new StreamStartException(
          stream + " cannot list the topics of " + cluster + ": " + e, e, false);
    }
    missingTopics().update(strategy.namedTopics(), topics.keySet());
    startListing = topics;
    startListedAt = System.nanoTime();
  }

  private MissingTopics missingTopics() {
    if (missingTopics == null) {
      missingTopics = new MissingTopics(name, strategy.describe(), Clock.systemUTC());
    }
    return missingTopics;
  }

  private Set<TopicPartition> partitions() {
    Map<String, List<PartitionInfo>> topics = startListing;
    if (topics == null
        || System.nanoTime() - startListedAt > TimeUnit.MILLISECONDS.toNanos(intervalMillis)) {
      topics = consumer.listTopics();
      missingTopics().update(strategy.namedTopics(), topics.keySet());
    }
    if (bounds == null) {
      return strategy.select(topics);
    }
    Set<TopicPartition> out = new HashSet<>();
    for (TopicPartition tp : bounds.keySet()) {
      List<PartitionInfo> infos = topics.get(tp.topic());
      if (infos != null && infos.stream().anyMatch(i -> i.partition() == tp.partition())) {
        out.add(tp);
      }
    }
    return out;
  }

  /**
   * Starts new partitions at their earliest offset; applies the data-loss policy to vanished ones.
   */
  private void discover(Set<TopicPartition> partitions) {
    Set<TopicPartition> added = new HashSet<>(partitions);
    added.removeAll(position.keySet());
    if (!added.isEmpty()) {
      Map<TopicPartition, Long> earliest = consumer.beginningOffsets(added);
      log.info("stream {} found new partitions {}, reading them from {}", name, added, earliest);
      position.putAll(earliest);
    }
    Set<TopicPartition> gone = new HashSet<>(position.keySet());
    gone.removeAll(partitions);
    for (TopicPartition tp : gone) {
      long expected = position.get(tp);
      if (options.dataLossPolicy() == DataLossPolicy.FAIL) {
        throw new DataLossException(tp, expected, -1, -1);
      }
      log.warn(
          "stream {}: partition {} disappeared at offset {}; dropping it (dataLossPolicy SKIP)",
          name,
          tp,
          expected);
      position.remove(tp);
    }
  }

  /**
   * Applies the data-loss policy to partitions whose next offset the log no longer holds; returns
   * the partitions SKIP moved, with where they stood, so the batch's commit is fenced against that
   * position.
   */
  private List<KafkaBatchPlan.Skip> checkDataLoss(Map<TopicPartition, Long> latest) {
    List<KafkaBatchPlan.Skip> skipped = new ArrayList<>();
    Map<TopicPartition, Long> earliest = consumer.beginningOffsets(position.keySet());
    for (Map.Entry<TopicPartition, Long> e : position.entrySet()) {
      TopicPartition tp = e.getKey();
      long next = e.getValue();
      long start = earliest.get(tp);
      long end = latest.get(tp);
      if (next >= start && next <= end) {
        continue;
      }
      if (options.dataLossPolicy() == DataLossPolicy.FAIL) {
        throw new DataLossException(tp, next, start, end);
      }
      e.setValue(skip(tp, next, start, end));
      skipped.add(new KafkaBatchPlan.Skip(tp.topic(), tp.partition(), next));
    }
    return skipped;
  }

  /**
   * Where SKIP continues: at the log start when {@code next} was deleted, at the log end when it
   * lies past it (re-reading from the start would repeat what the stream may already have read).
   */
  private long skip(TopicPartition tp, long next, long start, long end) {
    if (next < start) {
      log.warn(
          "stream {}: data loss on {}: offset {} is before the log start {} (retention or deleteRecords removed"
              + " offsets [{}, {})); skipping to {} (dataLossPolicy SKIP)",
          name,
          tp,
          next,
          start,
          next,
          start,
          start);
      metrics.dataLoss(start - next);
      return start;
    }
    log.warn(
        "stream {}: data loss on {}: offset {} is after the log end {} (the topic was recreated or truncated, or a"
            + " reset went past the end); continuing at the log end {} without reading offsets [{}, {})"
            + " (dataLossPolicy SKIP)",
        name,
        tp,
        next,
        end,
        end,
        start,
        end);
    return end;
  }
}
