package io.sluice.kafka.direct.internal;

import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStoreException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a stream's committed progress stands: the next offset of every committed partition and the
 * last batch id, read from the stream's offset store, or from its Kafka consumer group (stable
 * offsets, batch id from the commit metadata) when it has none. The one source of truth for where a
 * stream continues.
 *
 * @param offsets the committed next offset of every partition the group committed
 * @param batchId the last committed batch id, or empty when none
 */
record CommittedPosition(Map<TopicPartition, Long> offsets, OptionalLong batchId) {

  CommittedPosition {
    offsets = Map.copyOf(offsets);
  }

  /** Reads the position of {@code group} from {@code store}. Blocking. */
  static CommittedPosition of(OffsetStore store, String group) {
    return new CommittedPosition(store.committed(group), store.lastBatchId(group));
  }

  /**
   * Reads the position of {@code group} from the Kafka cluster of {@code params}, waiting for
   * offsets pending in a transaction to settle. Blocking up to {@code timeout}.
   *
   * @throws KafkaException when the group's offsets cannot be read within {@code timeout}
   */
  static CommittedPosition ofGroup(Map<String, Object> params, String group, Duration timeout) {
    Admin admin = Admin.create(KafkaParams.boundedAdmin(params, timeout));
    try {
      Map<TopicPartition, OffsetAndMetadata> read =
          KafkaGroupOffsets.readStable(admin, group, timeout);
      Map<TopicPartition, Long> offsets = new HashMap<>();
      read.forEach((tp, om) -> offsets.put(tp, om.offset()));
      return new CommittedPosition(offsets, KafkaGroupOffsets.lastBatchId(read));
    } catch (OffsetStoreException e) {
      throw new KafkaException(
          e.getMessage()
              + " from the Kafka cluster at bootstrap.servers="
              + KafkaParams.bootstrapServers(params)
              + " (is it running, and is bootstrap.servers right?)",
          e);
    } finally {
      // A call still pending (the cluster did not answer) would hold close() until it times out.
      admin.close(Duration.ZERO);
    }
  }

  /**
   * Whether every range of {@code plan} begins at this position, or continues from it after skipped
   * lost offsets (partitions never committed match anything).
   */
  boolean startsAt(KafkaBatchPlan plan) {
    Map<TopicPartition, Long> skippedFrom = plan.committedFrom();
    for (OffsetRange r : plan.ranges()) {
      Long next = offsets.get(r.topicPartition());
      long expected = skippedFrom.getOrDefault(r.topicPartition(), r.fromOffset());
      if (next != null && next != expected) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the ranges end exactly at this position (partitions never committed match anything).
   */
  boolean endsAt(List<OffsetRange> ranges) {
    for (OffsetRange r : ranges) {
      Long next = offsets.get(r.topicPartition());
      if (next != null && next != r.untilOffset()) {
        return false;
      }
    }
    return true;
  }

  /** The committed next offsets of the given partitions that differ from {@code next}. */
  Map<TopicPartition, Long> differing(Map<TopicPartition, Long> next) {
    Map<TopicPartition, Long> out = new HashMap<>();
    next.forEach(
        (tp, o) -> {
          Long committed = offsets.get(tp);
          if (committed != null && committed.longValue() != o) {
            out.put(tp, o);
          }
        });
    return out;
  }
}
