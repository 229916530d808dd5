package io.sluice.kafka.receiver.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.TopicPartition;

/**
 * Checks that no offset is committed ahead of what is stored: its writers record, per partition,
 * the position after the last record a block stored successfully (last offset + 1; the tests
 * produce without transactions, so positions have no gaps), and its store refuses nothing but notes
 * every commit whose range ends past that position.
 */
final class DurabilityProbe {

  final Map<TopicPartition, Long> stored = new ConcurrentHashMap<>();
  final List<String> violations = new CopyOnWriteArrayList<>();
  final List<BatchCommit> commits = new CopyOnWriteArrayList<>();

  /** While set, every commit fails as if the store were unreachable. */
  volatile boolean commitsDown;

  /**
   * Writers that call {@code before} with each block, then the real store, then record the block as
   * stored.
   */
  UnaryOperator<BlockWriter> writer(Consumer<List<ReceivedRecord>> before) {
    return store ->
        (block, marks) -> {
          before.accept(block);
          store.write(block, marks);
          for (ReceivedRecord r : block) {
            stored.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
          }
        };
  }

  /** {@code delegate}, checking every commit against what is stored. */
  OffsetStore checking(OffsetStore delegate) {
    return new OffsetStore() {
      @Override
      public Map<TopicPartition, Long> committed(
          String group, Collection<TopicPartition> partitions) {
        return delegate.committed(group, partitions);
      }

      @Override
      public Map<TopicPartition, Long> committed(String group) {
        return delegate.committed(group);
      }

      @Override
      public OptionalLong lastBatchId(String group) {
        return delegate.lastBatchId(group);
      }

      @Override
      public void commit(BatchCommit commit) {
        if (commitsDown) {
          throw new io.sluice.offsets.OffsetStoreException(
              "the offset store is unavailable (test)", null);
        }
        for (OffsetRange r : commit.ranges()) {
          long durable = stored.getOrDefault(r.topicPartition(), 0L);
          if (r.untilOffset() > durable) {
            violations.add(r + " committed in batch " + commit.batchId() + ", stored " + durable);
          }
        }
        delegate.commit(commit);
        commits.add(commit);
      }

      @Override
      public List<BatchCommit> history(String group, int limit) {
        return delegate.history(group, limit);
      }

      @Override
      public void reset(String group, Map<TopicPartition, Long> positions) {
        delegate.reset(group, positions);
      }

      @Override
      public String describe() {
        return "checking " + delegate.describe();
      }

      @Override
      public void close() {
        // the test closes the delegate
      }
    };
  }
}
