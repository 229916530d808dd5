package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class GroupCommitterTest {

  private static final TopicPartition TP = new TopicPartition("t", 0);

  @Test
  void createsItsConsumerAtTheFirstCallAndClosesItOnce() {
    AtomicInteger created = new AtomicInteger();
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    MockConsumer<byte[], byte[]> consumer =
        new MockConsumer<>("earliest") {
          @Override
          public synchronized void commitSync(
              Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
            commits.putAll(offsets);
          }
        };
    GroupCommitter committer =
        new GroupCommitter(
            () -> {
              created.incrementAndGet();
              return consumer;
            },
            Duration.ofSeconds(1));
    committer.commit(Map.of(), "nothing to commit");
    assertThat(committer.committed(Set.of())).isEmpty();
    assertThat(created).hasValue(0);

    committer.commit(Map.of(TP, 7L), "sluice:v1:batch=3;");
    assertThat(commits).isEqualTo(Map.of(TP, new OffsetAndMetadata(7L, "sluice:v1:batch=3;")));
    committer.committed(Set.of(TP));
    assertThat(created).hasValue(1);

    committer.close();
    committer.close();
    assertThat(consumer.closed()).isTrue();
    assertThatThrownBy(() -> committer.commit(Map.of(TP, 8L), ""))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void closeWithoutACommitCreatesNoConsumer() {
    AtomicInteger created = new AtomicInteger();
    GroupCommitter committer =
        new GroupCommitter(
            () -> {
              created.incrementAndGet();
              return new MockConsumer<>("earliest");
            },
            Duration.ofSeconds(1));
    committer.close();
    assertThat(created).hasValue(0);
  }
}
