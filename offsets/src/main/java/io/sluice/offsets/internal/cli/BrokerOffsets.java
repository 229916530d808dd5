package io.sluice.offsets.internal.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Log offsets from the broker for resets and lag; one consumer without a group, used by one thread.
 */
final class BrokerOffsets implements AutoCloseable {

  private final String bootstrapServers;
  private final Duration timeout;
  private final KafkaConsumer<byte[], byte[]> consumer;

  BrokerOffsets(String bootstrapServers, Duration timeout) {
    this.bootstrapServers = bootstrapServers;
    this.timeout = timeout;
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-offsets-cli");
    config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    config.put(
        ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
    this.consumer = new KafkaConsumer<>(config);
  }

  List<TopicPartition> partitions(String topic) {
    List<PartitionInfo> infos = call(() -> consumer.partitionsFor(topic, timeout));
    if (infos == null || infos.isEmpty()) {
      throw new CliException("topic '" + topic + "' does not exist on " + bootstrapServers);
    }
    List<TopicPartition> result = new ArrayList<>();
    infos.forEach(i -> result.add(new TopicPartition(i.topic(), i.partition())));
    result.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
    return result;
  }

  /** The topics the broker knows. */
  java.util.Set<String> topics() {
    return call(() -> consumer.listTopics(timeout).keySet());
  }

  Map<TopicPartition, Long> earliest(Collection<TopicPartition> partitions) {
    return call(() -> consumer.beginningOffsets(partitions, timeout));
  }

  Map<TopicPartition, Long> latest(Collection<TopicPartition> partitions) {
    return call(() -> consumer.endOffsets(partitions, timeout));
  }

  /** The first offset at or after {@code time}, or the end for partitions with nothing after it. */
  Map<TopicPartition, Long> at(Collection<TopicPartition> partitions, Instant time) {
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(tp -> query.put(tp, time.toEpochMilli()));
    Map<TopicPartition, OffsetAndTimestamp> found =
        call(() -> consumer.offsetsForTimes(query, timeout));
    Map<TopicPartition, Long> ends = latest(partitions);
    Map<TopicPartition, Long> result = new HashMap<>();
    for (TopicPartition tp : partitions) {
      OffsetAndTimestamp ot = found.get(tp);
      result.put(tp, ot == null ? ends.get(tp) : ot.offset());
    }
    return result;
  }

  /**
   * Refuses, with a one-line {@link CliException}, the first position (by topic, then partition)
   * whose partition does not exist or whose offset lies outside the partition's log {@code [log
   * start, log end]}; the end is where {@code --to-latest} would go.
   */
  void checkWithinLog(Map<TopicPartition, Long> positions) {
    Map<TopicPartition, Long> sorted = Positions.sorted(positions);
    Map<String, List<TopicPartition>> byTopic = new TreeMap<>();
    for (TopicPartition tp : sorted.keySet()) {
      byTopic.computeIfAbsent(tp.topic(), this::partitions);
    }
    for (TopicPartition tp : sorted.keySet()) {
      List<TopicPartition> existing = byTopic.get(tp.topic());
      if (!existing.contains(tp)) {
        throw new CliException(
            "topic '"
                + tp.topic()
                + "' has no partition "
                + tp.partition()
                + " on "
                + bootstrapServers
                + " (it has partitions 0 to "
                + (existing.size() - 1)
                + ")");
      }
    }
    Map<TopicPartition, Long> starts = earliest(sorted.keySet());
    Map<TopicPartition, Long> ends = latest(sorted.keySet());
    sorted.forEach(
        (tp, offset) -> {
          long start = starts.get(tp);
          long end = ends.get(tp);
          if (offset < start || offset > end) {
            throw new CliException(
                "offset "
                    + offset
                    + " for topic '"
                    + tp.topic()
                    + "' partition "
                    + tp.partition()
                    + " is "
                    + (offset < start ? "before the log start" : "beyond the log end")
                    + ": the log holds ["
                    + start
                    + ", "
                    + end
                    + "] (start, end) on "
                    + bootstrapServers
                    + "; pick an offset within it");
          }
        });
  }

  private <T> T call(java.util.function.Supplier<T> action) {
    try {
      return action.get();
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw new CliException(
          "no answer from the broker at "
              + bootstrapServers
              + " within "
              + timeout.toMillis()
              + " ms (is it reachable?)",
          e);
    } catch (KafkaException e) {
      throw new CliException("broker at " + bootstrapServers + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(timeout));
  }
}
