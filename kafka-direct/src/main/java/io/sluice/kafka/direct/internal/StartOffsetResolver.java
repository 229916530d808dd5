package io.sluice.kafka.direct.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StartingOffsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Resolves a {@link StartingOffsets} description into concrete next offsets, against the broker and
 * the offset store. Driver thread; blocking.
 */
public final class StartOffsetResolver {

  private final DriverConsumer consumer;
  private final String group;
  private final OffsetStore store;
  private final StartingOffsets groupFallback;

  /**
   * @param store the stream's offset store, or null when offsets live in the Kafka group
   * @param groupFallback where partitions without a committed offset start under the default
   */
  public StartOffsetResolver(
      DriverConsumer consumer, String group, OffsetStore store, StartingOffsets groupFallback) {
    this.consumer = consumer;
    this.group = group;
    this.store = store;
    this.groupFallback = groupFallback;
  }

  /**
   * The next offset of every partition in {@code partitions}; {@code start} null means the default
   * (committed in the store or the Kafka group, else {@code groupFallback}).
   */
  public Map<TopicPartition, Long> resolve(StartingOffsets start, Set<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return new HashMap<>();
    }
    if (start == null) {
      Map<TopicPartition, Long> found =
          store != null
              ? store.committed(group, partitions)
              : group != null ? consumer.committed(partitions) : Map.of();
      return withFallback(found, partitions, groupFallback);
    }
    if (start instanceof StartingOffsets.Earliest) {
      return new HashMap<>(consumer.beginningOffsets(partitions));
    }
    if (start instanceof StartingOffsets.Latest) {
      return new HashMap<>(consumer.endOffsets(partitions));
    }
    if (start instanceof StartingOffsets.Timestamp t) {
      return byTimestamp(t, partitions);
    }
    if (start instanceof StartingOffsets.Specific s) {
      return withFallback(s.offsets(), partitions, s.fallback());
    }
    if (start instanceof StartingOffsets.Committed c) {
      return withFallback(c.store().committed(group, partitions), partitions, c.fallback());
    }
    if (start instanceof StartingOffsets.FromBatch f) {
      return withFallback(fromBatch(f), partitions, StartingOffsets.earliest());
    }
    if (start instanceof StartingOffsets.Bounded b) {
      Map<TopicPartition, Long> from = new HashMap<>();
      for (OffsetRange r : b.ranges()) {
        from.put(r.topicPartition(), r.fromOffset());
      }
      return withFallback(from, partitions, StartingOffsets.earliest());
    }
    throw new IllegalArgumentException("unsupported starting offsets " + start);
  }

  private Map<TopicPartition, Long> byTimestamp(
      StartingOffsets.Timestamp t, Set<TopicPartition> partitions) {
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(tp -> query.put(tp, t.time().toEpochMilli()));
    Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
    Map<TopicPartition, Long> out = new HashMap<>();
    Set<TopicPartition> atEnd = new HashSet<>();
    for (TopicPartition tp : partitions) {
      OffsetAndTimestamp ot = found.get(tp);
      if (ot != null) {
        out.put(tp, ot.offset());
      } else {
        atEnd.add(tp);
      }
    }
    out.putAll(consumer.endOffsets(atEnd));
    return out;
  }

  private Map<TopicPartition, Long> fromBatch(StartingOffsets.FromBatch f) {
    List<BatchCommit> history = f.store().history(f.group(), Integer.MAX_VALUE);
    for (BatchCommit c : history) {
      if (c.batchId() == f.batchId()) {
        Map<TopicPartition, Long> out = new HashMap<>();
        c.ranges().forEach(r -> out.put(r.topicPartition(), r.fromOffset()));
        return out;
      }
    }
    throw new IllegalArgumentException(
        "batch "
            + f.batchId()
            + " of group '"
            + f.group()
            + "' is not in the history of "
            + f.store().describe()
            + " (it holds "
            + history.size()
            + " batches)");
  }

  private Map<TopicPartition, Long> withFallback(
      Map<TopicPartition, Long> found, Set<TopicPartition> partitions, StartingOffsets fallback) {
    Map<TopicPartition, Long> out = new HashMap<>();
    Set<TopicPartition> missing = new HashSet<>();
    for (TopicPartition tp : partitions) {
      Long o = found.get(tp);
      if (o != null) {
        out.put(tp, o);
      } else {
        missing.add(tp);
      }
    }
    if (!missing.isEmpty()) {
      out.putAll(resolve(fallback, missing));
    }
    return out;
  }
}
