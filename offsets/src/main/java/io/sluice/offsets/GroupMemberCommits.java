package io.sluice.offsets;

import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;

/**
 * An output that commits a stream's offsets to a Kafka consumer group inside its own Kafka
 * transactions, told by a stream in group mode (several processes share the group's partitions)
 * which member of the group it commits for.
 *
 * <p>Two things follow. The output's {@code transactional.id} must differ between the processes of
 * the group, or they would fence each other: it gains {@code memberKey}, which is stable across
 * restarts of one process, so a restarted process still fences what its crashed predecessor left
 * open. And the offsets go to the transaction with the member's {@link ConsumerGroupMetadata}
 * (KIP-447): the group coordinator refuses them once the member's generation is over, so a process
 * that lost its partitions in a rebalance cannot commit over their new owner's progress.
 */
public interface GroupMemberCommits {

  /**
   * Declares the member this output commits {@code group}'s offsets for. Called by {@code
   * StreamingContext.start()} before the output is opened, on the driver thread.
   *
   * @param group the consumer group
   * @param memberKey identifies this process among the group's processes, stable across its
   *     restarts; letters, digits, {@code .}, {@code _} and {@code -}
   * @param metadata the member's current group metadata; called on the output's commit thread,
   *     returns at once
   * @throws IllegalStateException when the output already commits for another member key
   */
  void commitAsMemberOf(String group, String memberKey, Supplier<ConsumerGroupMetadata> metadata);
}
