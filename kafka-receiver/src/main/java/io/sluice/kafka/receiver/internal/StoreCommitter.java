package io.sluice.kafka.receiver.internal;

import io.sluice.engine.Clock;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Commits to an {@link OffsetStore} (ZooKeeper's {@code /consumers/<group>/offsets/<topic>/<p>} for
 * {@code OffsetStores.zookeeper}) under the consumer's group: each commit is one {@link
 * BatchCommit} whose ranges run from the last committed position to the stored one, so the store's
 * offset fence refuses a commit over another member's. Batch ids continue the group's history: the
 * first is {@code lastBatchId(group) + 1}, and when another member of the group committed a higher
 * one meanwhile ({@link StaleBatchException}), the next after it.
 */
final class StoreCommitter implements OffsetCommitter {

  private static final int STALE_ATTEMPTS = 5;

  private final OffsetStore store;
  private final String group;
  private final String autoOffsetReset;
  private final Clock clock;
  private long nextBatchId = -1;

  StoreCommitter(OffsetStore store, String group, String autoOffsetReset, Clock clock) {
    this.store = store;
    this.group = group;
    this.autoOffsetReset = autoOffsetReset;
    this.clock = clock;
  }

  @Override
  public void seekAssigned(
      Consumer<byte[], byte[]> consumer, Collection<TopicPartition> partitions) {
    Map<TopicPartition, Long> committed = store.committed(group, partitions);
    List<TopicPartition> fresh = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      Long offset = committed.get(tp);
      if (offset != null) {
        consumer.seek(tp, offset);
      } else {
        fresh.add(tp);
      }
    }
    if (!fresh.isEmpty()) {
      reset(consumer, fresh);
    }
  }

  /**
   * Applies {@code auto.offset.reset} to partitions the store holds no offset for, explicitly: left
   * alone, the consumer would start from the Kafka group's own committed offsets, which are not
   * this receiver's.
   */
  private void reset(Consumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
    if (autoOffsetReset.equals("earliest")) {
      consumer.seekToBeginning(partitions);
    } else if (autoOffsetReset.equals("latest")) {
      consumer.seekToEnd(partitions);
    } else if (autoOffsetReset.startsWith("by_duration:")) {
      Duration back = Duration.parse(autoOffsetReset.substring("by_duration:".length()));
      long since = clock.now().minus(back).toEpochMilli();
      Map<TopicPartition, Long> query = new HashMap<>();
      partitions.forEach(tp -> query.put(tp, since));
      Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
      List<TopicPartition> none = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        OffsetAndTimestamp o = found.get(tp);
        if (o != null) {
          consumer.seek(tp, o.offset());
        } else {
          none.add(tp);
        }
      }
      consumer.seekToEnd(none);
    } else {
      throw new IllegalStateException(
          store.describe()
              + " holds no offset of group '"
              + group
              + "' for "
              + partitions
              + " and auto.offset.reset is "
              + autoOffsetReset
              + ": commit a position with `sluice offsets reset`, or set auto.offset.reset to"
              + " earliest or latest");
    }
  }

  @Override
  public void commit(Consumer<byte[], byte[]> consumer, List<OffsetRange> ranges) {
    Instant now = clock.now();
    long id = nextBatchId >= 0 ? nextBatchId : store.lastBatchId(group).orElse(-1L) + 1;
    for (int attempt = 1; ; attempt++) {
      try {
        store.commit(new BatchCommit(group, id, now, ranges));
        nextBatchId = id + 1;
        return;
      } catch (StaleBatchException e) {
        if (attempt >= STALE_ATTEMPTS) {
          throw new OffsetStoreException(
              store.describe()
                  + ": the offsets of group '"
                  + group
                  + "' lost the race for a batch id "
                  + STALE_ATTEMPTS
                  + " times to other committers of the group",
              e);
        }
        id = Math.max(id, e.lastCommittedBatchId()) + 1;
      }
    }
  }

  @Override
  public boolean retryLater(RuntimeException failure) {
    return false;
  }

  @Override
  public String describe() {
    return store.describe() + " (group '" + group + "')";
  }
}
