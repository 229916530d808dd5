package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.offsets.TransactionalProducerException.Kind;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.UnknownProducerIdException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.junit.jupiter.api.Test;

/** The one classification of transactional producer failures; no broker needed. */
class TransactionalProducerClassificationTest {

  @Test
  void onlyAProducerFenceMeansFenced() {
    assertThat(TransactionalProducer.classify(new ProducerFencedException("newer epoch")))
        .isEqualTo(Kind.FENCED);
    // KafkaProducer.send and the engine wrap it; a failed abort adds it as suppressed.
    assertThat(
            TransactionalProducer.classify(
                new KafkaException("send failed", new ProducerFencedException("x"))))
        .isEqualTo(Kind.FENCED);
    OffsetFencedException refused =
        new OffsetFencedException("test", "g", 1, new TopicPartition("t", 0), 10, 4);
    refused.addSuppressed(new ProducerFencedException("found when aborting"));
    assertThat(TransactionalProducer.classify(refused)).isEqualTo(Kind.FENCED);
  }

  @Test
  void anEpochRejectedByAPartitionLeaderIsAbortableNotAFence() {
    // Kafka reports a coordinator's INVALID_PRODUCER_EPOCH as ProducerFencedException; what
    // surfaces as
    // InvalidProducerEpochException comes from a produce response and is cleared by aborting.
    assertThat(TransactionalProducer.classify(new InvalidProducerEpochException("old epoch")))
        .isEqualTo(Kind.ABORTABLE);
  }

  @Test
  void errorsTheClientRecoversFromByAbortingAreAbortable() {
    for (Throwable e :
        List.of(
            new TransactionAbortableException("abortable"),
            new OutOfOrderSequenceException("oos"),
            new UnknownProducerIdException("unknown pid"),
            new InvalidPidMappingException("expired id"),
            new TimeoutException("no answer"),
            new RecordTooLargeException("too large"),
            new SerializationException("bad value"),
            new IllegalStateException("user code"),
            new OffsetFencedException("test", "g", 1, new TopicPartition("t", 0), 10, 4),
            new StaleBatchException("g", 1, 3))) {
      assertThat(TransactionalProducer.classify(e)).as("%s", e).isEqualTo(Kind.ABORTABLE);
    }
  }

  @Test
  void configurationSecurityAndVersionErrorsAreFatal() {
    for (Throwable e :
        List.of(
            new TransactionalIdAuthorizationException("no write on the id"),
            new ClusterAuthorizationException("no idempotent write"),
            new TopicAuthorizationException(Set.of("out")),
            new GroupAuthorizationException("no read on the group"),
            new SaslAuthenticationException("bad password"),
            new UnsupportedVersionException("old broker"),
            new InvalidTopicException("bad name"),
            new KafkaException("wrapped", new TransactionalIdAuthorizationException("x")))) {
      assertThat(TransactionalProducer.classify(e)).as("%s", e).isEqualTo(Kind.FATAL);
    }
  }

  @Test
  void aFenceAnywhereWinsOverAFatalError() {
    KafkaException both =
        new KafkaException("commit failed", new TransactionalIdAuthorizationException("x"));
    both.addSuppressed(new ProducerFencedException("abort found the fence"));
    assertThat(TransactionalProducer.classify(both)).isEqualTo(Kind.FENCED);
  }

  @Test
  void theOwnersExceptionsKeepTheirKindAndCyclesEnd() {
    assertThat(
            TransactionalProducer.classify(
                new TransactionalProducerException(Kind.FENCED, "refused", null)))
        .isEqualTo(Kind.FENCED);
    assertThat(
            TransactionalProducer.classify(
                new TransactionalProducerException(Kind.FATAL, "closed", null)))
        .isEqualTo(Kind.FATAL);
    KafkaException a = new KafkaException("a");
    KafkaException b = new KafkaException("b", a);
    a.initCause(b);
    assertThat(TransactionalProducer.classify(a)).isEqualTo(Kind.ABORTABLE);
  }
}
