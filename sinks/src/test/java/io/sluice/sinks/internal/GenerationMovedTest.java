package io.sluice.sinks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.common.errors.IllegalGenerationException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.junit.jupiter.api.Test;

/** Which commit failures a group-mode exactly-once sink answers by writing the batch again. */
class GenerationMovedTest {

  @Test
  void aGenerationReplacedByARebalanceIsRecognisedThroughTheCauseChain() {
    assertThat(
            KafkaSinkImpl.generationMoved(
                new IllegalStateException(
                    "cannot commit the transaction",
                    new CommitFailedException(
                        "Transaction offset Commit failed due to consumer group metadata"
                            + " mismatch: Specified group generation id is not valid."))))
        .isTrue();
    assertThat(KafkaSinkImpl.generationMoved(new IllegalGenerationException("x"))).isTrue();
    assertThat(
            KafkaSinkImpl.generationMoved(
                new RuntimeException(new RebalanceInProgressException("x"))))
        .isTrue();
  }

  @Test
  void fencingAndOtherFailuresAreNotRetried() {
    assertThat(KafkaSinkImpl.generationMoved(new ProducerFencedException("x"))).isFalse();
    assertThat(KafkaSinkImpl.generationMoved(new RuntimeException("boom"))).isFalse();
  }
}
