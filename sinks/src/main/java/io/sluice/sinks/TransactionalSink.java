package io.sluice.sinks;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.SequencePosition;
import io.sluice.engine.SequencedPlan;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StreamOffsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;

/**
 * A sink that writes a whole batch as one unit and commits the batch's offsets (each Kafka input's
 * {@link StreamOffsets} plan, as a {@link BatchCommit}) inside the same transaction, so output and
 * offsets become visible together or not at all. The commit is fenced by offsets: it is refused,
 * and the whole transaction rolled back, unless every range begins at its group's committed next
 * offset. The engine replays only batches that begin where the committed offsets stand, so a batch
 * is never applied twice, even by writes that add; a sink handed a batch its target already covers
 * fails it loudly. Such a sink is the one committer of the batch's offsets: the inputs do not
 * commit them again.
 *
 * <p>{@link #write(io.sluice.engine.rdd.RDD, Batch)} is called on the job thread, which owns the
 * transaction; the RDD's tasks may compute and hand over records in parallel.
 *
 * @param <T> record type
 */
public interface TransactionalSink<T> extends BatchOutput<T> {

  /**
   * The offsets to commit for {@code batch}: one {@link BatchCommit} per consumer group among the
   * batch's plans that implement {@link StreamOffsets}, in plan order. Two inputs of the same group
   * are merged into one commit. Empty when no input is a Kafka stream.
   *
   * @throws IllegalArgumentException if two inputs of one group read the same topic-partition
   */
  static List<BatchCommit> batchCommits(Batch batch) {
    return batchCommits(batch, null);
  }

  /**
   * As {@link #batchCommits(Batch)}, with the progress of the batch's sequenced inputs ({@link
   * SequencedPlan}, a receiver stream's block numbers, a file stream's file numbers) committed
   * under group {@code sequenceGroup} (see {@link #sequenceGroup}) as one partition per sequence
   * ({@link #sequencePartition}); null to leave them out.
   */
  static List<BatchCommit> batchCommits(Batch batch, String sequenceGroup) {
    Map<String, List<io.sluice.offsets.OffsetRange>> byGroup = new LinkedHashMap<>();
    Map<String, Map<org.apache.kafka.common.TopicPartition, Long>> expected = new LinkedHashMap<>();
    for (Object plan : batch.plans().values()) {
      if (sequenceGroup != null && plan instanceof SequencedPlan sequenced) {
        byGroup
            .computeIfAbsent(sequenceGroup, g -> new ArrayList<>())
            .add(
                new io.sluice.offsets.OffsetRange(
                    sequenced.sequence(), 0, sequenced.from(), sequenced.until()));
      } else if (plan instanceof StreamOffsets offsets) {
        byGroup
            .computeIfAbsent(offsets.group(), g -> new ArrayList<>())
            .addAll(offsets.offsetRanges());
        expected
            .computeIfAbsent(offsets.group(), g -> new LinkedHashMap<>())
            .putAll(offsets.committedFrom());
      }
    }
    List<BatchCommit> commits = new ArrayList<>(byGroup.size());
    byGroup.forEach(
        (group, ranges) ->
            commits.add(
                new BatchCommit(
                    group,
                    batch.id(),
                    batch.time(),
                    ranges,
                    expected.getOrDefault(group, Map.of()))));
    return commits;
  }

  /**
   * The group under which the application {@code appName} keeps its sequenced inputs' progress:
   * {@code <appName>.sequences}, apart from any Kafka consumer group of the application.
   */
  static String sequenceGroup(String appName) {
    return appName + ".sequences";
  }

  /**
   * The partition under which the progress of sequence {@code sequence} is stored: a topic named
   * after the sequence (for example {@code receiver:receiver-0}, a name no Kafka topic can have),
   * partition 0.
   */
  static TopicPartition sequencePartition(String sequence) {
    return new TopicPartition(sequence, 0);
  }

  /**
   * Where {@code sequence} stands in {@code store} under {@code group}: the group's last batch and
   * the sequence's next number, or empty when the store holds nothing for it.
   */
  static Optional<SequencePosition> committedSequence(
      OffsetStore store, String group, String sequence) {
    TopicPartition tp = sequencePartition(sequence);
    Long next = store.committed(group, List.of(tp)).get(tp);
    OptionalLong batch = store.lastBatchId(group);
    if (next == null || batch.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new SequencePosition(batch.getAsLong(), next));
  }
}
