package io.sluice.kafka.receiver.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;

/**
 * The marks a Kafka receiver stores with each block (see {@code Receiver.store(List, Map)}): per
 * assigned partition, keyed {@code <topic>-<partition>}, the value {@code <committed>:<stored>} —
 * the position committed when the block was stored and the position the stored blocks reach. With a
 * write-ahead log they are durable with the block, so a restarted receiver knows what the log holds
 * even when the commit after the block was lost.
 */
final class StoredMarks {

  /** One partition's mark. */
  record Mark(long committed, long stored) {}

  private StoredMarks() {}

  static String key(TopicPartition tp) {
    return tp.topic() + "-" + tp.partition();
  }

  static String value(long committed, long stored) {
    return committed + ":" + stored;
  }

  /** The marks of {@code positions} (stored positions by partition) under {@code committed}. */
  static Map<String, String> of(
      Map<TopicPartition, Long> stored, Map<TopicPartition, Long> committed) {
    Map<String, String> marks = new HashMap<>();
    stored.forEach(
        (tp, position) -> {
          Long c = committed.get(tp);
          if (c != null) {
            marks.put(key(tp), value(c, position));
          }
        });
    return marks;
  }

  /** The mark of {@code tp} in {@code marks}, if any and well formed. */
  static Optional<Mark> of(Map<String, String> marks, TopicPartition tp) {
    String v = marks.get(key(tp));
    if (v == null) {
      return Optional.empty();
    }
    int colon = v.indexOf(':');
    try {
      return Optional.of(
          new Mark(Long.parseLong(v.substring(0, colon)), Long.parseLong(v.substring(colon + 1))));
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "the receiver's stored mark of " + tp + " is malformed: '" + v + "'", e);
    }
  }
}
