package io.sluice.kafka.direct;

import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Static factories for {@link ConsumerStrategy}, as in Spark's {@code ConsumerStrategies}. */
public final class ConsumerStrategies {

  private ConsumerStrategies() {}

  /**
   * Every partition of the named topics. A topic that does not exist yet is read from its earliest
   * offset once it appears; meanwhile the stream warns at start and once a minute.
   */
  public static <K, V> ConsumerStrategy<K, V> subscribe(
      Collection<String> topics, Map<String, Object> kafkaParams) {
    Set<String> names = Set.copyOf(Objects.requireNonNull(topics, "topics must not be null"));
    if (names.isEmpty()) {
      throw new IllegalArgumentException("topics must not be empty");
    }
    return new Strategy<>("subscribe" + names, kafkaParams) {
      @Override
      public Set<String> namedTopics() {
        return names;
      }

      @Override
      public Set<TopicPartition> select(Map<String, List<PartitionInfo>> all) {
        Set<TopicPartition> out = new HashSet<>();
        for (String topic : names) {
          addPartitions(out, all.get(topic));
        }
        return out;
      }
    };
  }

  /**
   * Every partition of every topic whose whole name matches {@code pattern}, including topics
   * created later.
   */
  public static <K, V> ConsumerStrategy<K, V> subscribePattern(
      Pattern pattern, Map<String, Object> kafkaParams) {
    Objects.requireNonNull(pattern, "pattern must not be null");
    return new Strategy<>("subscribePattern[" + pattern.pattern() + "]", kafkaParams) {
      @Override
      public Set<TopicPartition> select(Map<String, List<PartitionInfo>> all) {
        Set<TopicPartition> out = new HashSet<>();
        all.forEach(
            (topic, infos) -> {
              if (pattern.matcher(topic).matches()) {
                addPartitions(out, infos);
              }
            });
        return out;
      }
    };
  }

  /**
   * Exactly these partitions; a named partition that does not exist yet is read once it appears.
   * The stream warns at start and once a minute while a named topic does not exist.
   */
  public static <K, V> ConsumerStrategy<K, V> assign(
      Collection<TopicPartition> partitions, Map<String, Object> kafkaParams) {
    Set<TopicPartition> fixed =
        new LinkedHashSet<>(Objects.requireNonNull(partitions, "partitions must not be null"));
    if (fixed.isEmpty()) {
      throw new IllegalArgumentException("partitions must not be empty");
    }
    Set<String> topics = new TreeSet<>();
    fixed.forEach(tp -> topics.add(tp.topic()));
    Set<String> named = Collections.unmodifiableSet(topics);
    return new Strategy<>("assign" + fixed, kafkaParams) {
      @Override
      public Set<String> namedTopics() {
        return named;
      }

      @Override
      public boolean selectsWholeTopics() {
        return false;
      }

      @Override
      public Set<TopicPartition> select(Map<String, List<PartitionInfo>> all) {
        Set<TopicPartition> out = new HashSet<>();
        for (TopicPartition tp : fixed) {
          List<PartitionInfo> infos = all.get(tp.topic());
          if (infos != null && infos.stream().anyMatch(p -> p.partition() == tp.partition())) {
            out.add(tp);
          }
        }
        return out;
      }
    };
  }

  private static void addPartitions(Set<TopicPartition> out, List<PartitionInfo> infos) {
    if (infos != null) {
      for (PartitionInfo info : infos) {
        out.add(new TopicPartition(info.topic(), info.partition()));
      }
    }
  }

  private abstract static class Strategy<K, V> implements ConsumerStrategy<K, V> {
    private final String description;
    private final Map<String, Object> params;

    Strategy(String description, Map<String, Object> params) {
      this.description = description;
      Objects.requireNonNull(params, "kafkaParams must not be null");
      if (params.get("bootstrap.servers") == null) {
        throw new IllegalArgumentException(
            "kafkaParams must set bootstrap.servers, were " + params.keySet());
      }
      this.params = Map.copyOf(params);
    }

    @Override
    public Map<String, Object> kafkaParams() {
      return params;
    }

    @Override
    public String describe() {
      return description;
    }

    @Override
    public String toString() {
      return description;
    }
  }
}
