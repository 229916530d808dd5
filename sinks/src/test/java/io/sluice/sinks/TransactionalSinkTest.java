package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.Batch;
import io.sluice.engine.SequencedPlan;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a transactional sink commits for a batch's plans. */
class TransactionalSinkTest {

  private record Sequenced(String sequence, long from, long until) implements SequencedPlan {}

  @Test
  void aSequencedPlanCommitsItsRangeUnderTheApplicationsGroupFencedAtItsStart() {
    Batch batch =
        new Batch(4, Instant.ofEpochSecond(5), Map.of("files", new Sequenced("files:files", 3, 5)));

    List<BatchCommit> commits = TransactionalSink.batchCommits(batch, "app");

    assertThat(commits).hasSize(1);
    BatchCommit commit = commits.get(0);
    assertThat(commit.group()).isEqualTo("app");
    assertThat(commit.batchId()).isEqualTo(4);
    assertThat(commit.ranges()).containsExactly(new OffsetRange("files:files", 0, 3, 5));
    assertThat(commit.expectedFrom(commit.ranges().get(0))).isEqualTo(3);
  }

  @Test
  void withoutASequenceGroupSequencedPlansAreLeftOut() {
    Batch batch =
        new Batch(4, Instant.ofEpochSecond(5), Map.of("files", new Sequenced("files:files", 3, 5)));

    assertThat(TransactionalSink.batchCommits(batch)).isEmpty();
  }
}
