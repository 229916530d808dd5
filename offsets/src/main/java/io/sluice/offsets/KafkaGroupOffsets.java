package io.sluice.offsets;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * Reads a consumer group's committed offsets as Sluice's Kafka writers leave them: the Kafka offset
 * store, the stream's own group commits and the exactly-once Kafka sink all put the batch id in the
 * commit metadata ({@link KafkaCommitMetadata}), and the latter two commit inside transactions.
 *
 * <p>Thread-safe; every method blocks up to its timeout.
 */
public final class KafkaGroupOffsets {

  private KafkaGroupOffsets() {}

  /**
   * A canonical key for the consumer groups of the Kafka cluster at {@code bootstrapServers} (a
   * comma-separated string or a list), so that writers of the same groups can be recognised as one
   * place: hosts trimmed, lower-cased and sorted. Different spellings of one host ({@code
   * localhost} and {@code 127.0.0.1}) give different keys.
   */
  public static String clusterKey(Object bootstrapServers) {
    String joined =
        bootstrapServers instanceof java.util.Collection<?> c
            ? String.join(",", c.stream().map(String::valueOf).toList())
            : String.valueOf(bootstrapServers);
    return "kafka-groups@"
        + String.join(
            ",",
            java.util.Arrays.stream(joined.split(","))
                .map(s -> s.trim().toLowerCase(java.util.Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .sorted()
                .toList());
  }

  /**
   * Checks that each range begins at the group's committed next offset, where the group has one.
   *
   * @throws OffsetFencedException naming the first partition (by topic, then partition) that
   *     differs
   */
  public static void requireRangesStartAt(
      Map<TopicPartition, Long> committed, BatchCommit commit, String where) {
    commit.ranges().stream()
        .sorted(
            java.util.Comparator.comparing(OffsetRange::topic)
                .thenComparingInt(OffsetRange::partition))
        .filter(
            r ->
                committed.containsKey(r.topicPartition())
                    && committed.get(r.topicPartition()) != commit.expectedFrom(r))
        .findFirst()
        .ifPresent(
            r -> {
              throw new OffsetFencedException(
                  where,
                  commit.group(),
                  commit.batchId(),
                  r.topicPartition(),
                  commit.expectedFrom(r),
                  committed.get(r.topicPartition()));
            });
  }

  /**
   * The group's committed offsets once none is pending in a transaction. The broker leaves a
   * partition whose transactional offsets still await their commit or abort marker out of a stable
   * read; markers land within milliseconds, so such partitions are read again until stable.
   *
   * @throws OffsetStoreException when the offsets cannot be read, or stay pending (an open
   *     transaction of a live or crashed writer) for {@code timeout}
   */
  public static Map<TopicPartition, OffsetAndMetadata> readStable(
      Admin admin, String group, Duration timeout) {
    return readStable(admin, group, null, timeout);
  }

  /**
   * Like {@link #readStable(Admin, String, Duration)}, for {@code partitions} only: offsets pending
   * in other writers' transactions for other partitions (the other members of a group, in group
   * mode) do not hold the read up.
   *
   * @param partitions the partitions to read; null for every partition of the group
   */
  public static Map<TopicPartition, OffsetAndMetadata> readStable(
      Admin admin, String group, Collection<TopicPartition> partitions, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      // Both reads at once: the fence sits on every exactly-once batch's commit path.
      KafkaFuture<Map<TopicPartition, OffsetAndMetadata>> stableRead =
          start(admin, group, partitions, true);
      KafkaFuture<Map<TopicPartition, OffsetAndMetadata>> anyRead =
          start(admin, group, partitions, false);
      Map<TopicPartition, OffsetAndMetadata> stable = await(stableRead, group, timeout);
      Map<TopicPartition, OffsetAndMetadata> any = await(anyRead, group, timeout);
      if (stable.keySet().containsAll(any.keySet())) {
        return stable;
      }
      if (System.nanoTime() > deadline) {
        throw new OffsetStoreException(
            "the committed offsets of group '"
                + group
                + "' for "
                + any.keySet()
                + " stayed pending in a transaction for "
                + timeout.toMillis()
                + " ms (an open transaction of"
                + " another writer?)");
      }
      pause(group);
    }
  }

  /**
   * The highest batch id in the metadata of {@code committed} (a group's offsets), or empty when
   * none carries one.
   */
  public static OptionalLong lastBatchId(Map<TopicPartition, OffsetAndMetadata> committed) {
    return committed.values().stream()
        .map(om -> KafkaCommitMetadata.batchId(om.metadata()))
        .filter(OptionalLong::isPresent)
        .mapToLong(OptionalLong::getAsLong)
        .max();
  }

  /**
   * One read of the group's offsets, stable or not; a group that does not exist has none.
   *
   * @throws OffsetStoreException when the read fails or times out
   */
  public static Map<TopicPartition, OffsetAndMetadata> read(
      Admin admin, String group, boolean requireStable, Duration timeout) {
    return await(start(admin, group, null, requireStable), group, timeout);
  }

  private static KafkaFuture<Map<TopicPartition, OffsetAndMetadata>> start(
      Admin admin, String group, Collection<TopicPartition> partitions, boolean requireStable) {
    ListConsumerGroupOffsetsSpec spec = new ListConsumerGroupOffsetsSpec();
    if (partitions != null) {
      spec.topicPartitions(partitions);
    }
    return admin
        .listConsumerGroupOffsets(
            Map.of(group, spec), new ListConsumerGroupOffsetsOptions().requireStable(requireStable))
        .partitionsToOffsetAndMetadata(group);
  }

  private static Map<TopicPartition, OffsetAndMetadata> await(
      KafkaFuture<Map<TopicPartition, OffsetAndMetadata>> read, String group, Duration timeout) {
    try {
      Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
      read.get(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .forEach(
              (tp, om) -> {
                if (om != null) {
                  result.put(tp, om);
                }
              });
      return result;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return Map.of();
      }
      throw new OffsetStoreException(
          "cannot read the offsets of group '" + group + "': " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OffsetStoreException(
          "interrupted while reading the offsets of group '" + group + "'", e);
    } catch (TimeoutException e) {
      throw new OffsetStoreException(
          "cannot read the offsets of group '" + group + "' within " + timeout.toMillis() + " ms",
          e);
    }
  }

  private static void pause(String group) {
    try {
      // Transaction markers land within milliseconds; a short pause avoids a busy loop.
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OffsetStoreException(
          "interrupted while waiting for stable offsets of group '" + group + "'", e);
    }
  }
}
