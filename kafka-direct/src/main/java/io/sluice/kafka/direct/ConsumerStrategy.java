package io.sluice.kafka.direct;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Which topic-partitions a direct stream reads, and the Kafka parameters it reads them with. Built
 * through {@link ConsumerStrategies}. The stream asks again at every batch, so topics and
 * partitions created later are picked up at the next batch (and started at their earliest offset).
 *
 * @param <K> the key type the stream's {@code key.deserializer} produces
 * @param <V> the value type the stream's {@code value.deserializer} produces
 */
public interface ConsumerStrategy<K, V> {

  /**
   * The Kafka consumer parameters: {@code bootstrap.servers}, {@code group.id} (the stream's
   * group), {@code key.deserializer} and {@code value.deserializer} (a class, a class name or an
   * instance), {@code isolation.level} and any other consumer setting. An unmodifiable copy.
   */
  Map<String, Object> kafkaParams();

  /**
   * The partitions to read now, chosen among the cluster's non-internal topics. Called on the
   * driver thread once per batch; must not block.
   *
   * @param topics every topic of the cluster with its partitions
   */
  Set<TopicPartition> select(Map<String, List<PartitionInfo>> topics);

  /** A short description for messages and logs, e.g. {@code subscribe[orders, payments]}. */
  String describe();

  /**
   * The topics this strategy names, which the stream expects to exist: it warns at start, and at
   * most once a minute after, while one of them does not. Default: none (e.g. a pattern).
   */
  default Set<String> namedTopics() {
    return Set.of();
  }

  /**
   * Whether the strategy selects whole topics (subscribe, pattern), so that a consumer group can
   * share their partitions among processes (group mode); {@code false} for a fixed assignment of
   * partitions. Default: {@code true}.
   */
  default boolean selectsWholeTopics() {
    return true;
  }
}
