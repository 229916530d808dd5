package io.sluice.kafka.receiver.internal;

import io.sluice.offsets.OffsetRange;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each assigned partition of one consumer stands: the position last committed, and the
 * position its stored blocks reached (durable, with a write-ahead log). Positions are the
 * consumer's {@code position(tp)}, not last offset + 1, so transaction markers and compacted gaps
 * are covered. Used by the consumer's thread only (the rebalance callbacks run inside its {@code
 * poll}).
 */
final class Positions {

  private static final Logger LOG = LoggerFactory.getLogger(Positions.class);

  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private final Map<TopicPartition, Long> stored = new HashMap<>();

  /** A partition was assigned and stands at {@code position}, committed there or starting there. */
  void assigned(TopicPartition tp, long position) {
    committed.put(tp, position);
    stored.put(tp, position);
  }

  /** Everything before {@code position} of an assigned partition is stored. */
  void stored(TopicPartition tp, long position) {
    Long before = stored.get(tp);
    if (before == null) {
      return;
    }
    if (position < before) {
      LOG.warn(
          "the position of {} moved back from {} to {} (the consumer reset it, data lost or the topic"
              + " recreated?): the offsets are committed again once it passes {}",
          tp,
          before,
          position,
          before);
      return;
    }
    stored.put(tp, position);
  }

  /**
   * The ranges stored but not committed of {@code partitions} (those still assigned), ordered by
   * topic and partition: {@code [committed, stored)}.
   */
  List<OffsetRange> uncommitted(Collection<TopicPartition> partitions) {
    List<OffsetRange> ranges = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      Long from = committed.get(tp);
      Long until = stored.get(tp);
      if (from != null && until != null && until > from) {
        ranges.add(OffsetRange.of(tp, from, until));
      }
    }
    ranges.sort(Comparator.comparing(OffsetRange::topic).thenComparingInt(OffsetRange::partition));
    return ranges;
  }

  /** Every assigned partition's stored but uncommitted range. */
  List<OffsetRange> uncommitted() {
    return uncommitted(List.copyOf(stored.keySet()));
  }

  /** The ranges are committed. */
  void committed(List<OffsetRange> ranges) {
    for (OffsetRange r : ranges) {
      if (committed.containsKey(r.topicPartition())) {
        committed.put(r.topicPartition(), r.untilOffset());
      }
    }
  }

  /** The committed position of every assigned partition; a copy. */
  Map<TopicPartition, Long> committedPositions() {
    return Map.copyOf(committed);
  }

  /** The partitions are no longer assigned. */
  void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      committed.remove(tp);
      stored.remove(tp);
    }
  }
}
