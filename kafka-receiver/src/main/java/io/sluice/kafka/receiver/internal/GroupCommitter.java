package io.sluice.kafka.receiver.internal;

import io.sluice.offsets.OffsetRange;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Commits to the receiver's own Kafka consumer group with {@code commitSync}, as a member of the
 * group (the broker checks the generation). Partitions assigned start where the group's committed
 * offsets say, found by the consumer itself, or where {@code auto.offset.reset} says.
 */
final class GroupCommitter implements OffsetCommitter {

  private final String group;

  GroupCommitter(String group) {
    this.group = group;
  }

  @Override
  public void seekAssigned(
      Consumer<byte[], byte[]> consumer, Collection<TopicPartition> partitions) {
    // The consumer fetches the group's committed offsets for partitions without a position.
  }

  @Override
  public void commit(Consumer<byte[], byte[]> consumer, List<OffsetRange> ranges) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (OffsetRange r : ranges) {
      offsets.put(r.topicPartition(), new OffsetAndMetadata(r.untilOffset()));
    }
    consumer.commitSync(offsets);
  }

  /**
   * A commit refused because the group is rebalancing or this member lost its partitions is tried
   * again after the next poll, which completes the rebalance: the revoke callback commits what is
   * stored, and lost partitions are forgotten.
   */
  @Override
  public boolean retryLater(RuntimeException failure) {
    return failure instanceof RebalanceInProgressException
        || failure instanceof CommitFailedException
        || failure instanceof RetriableException;
  }

  @Override
  public String describe() {
    return "Kafka consumer group '" + group + "'";
  }
}
