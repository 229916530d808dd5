package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class ConsumerCacheTest {

  private static final TopicPartition TP = new TopicPartition("cache-t", 0);

  @Test
  void reusesOneConsumerPerPartitionWithOneOwnerAtATime(EmbeddedKafka kafka) {
    AtomicInteger created = new AtomicInteger();
    try (ConsumerCache cache =
        new ConsumerCache(
            () -> {
              created.incrementAndGet();
              return TestSupport.taskConsumer(kafka, false);
            },
            DataLossPolicy.FAIL,
            Duration.ofMinutes(1),
            true)) {
      ConsumerCache.Lease first = cache.checkout(TP, false);
      ConsumerCache.Lease concurrent = cache.checkout(TP, false);
      assertThat(first.cached()).isTrue();
      assertThat(concurrent.cached()).isFalse();
      assertThat(concurrent.reader()).isNotSameAs(first.reader());
      cache.checkin(concurrent, true);
      cache.checkin(first, true);
      assertThat(cache.idleCount()).isEqualTo(1);

      ConsumerCache.Lease again = cache.checkout(TP, false);
      assertThat(again.reader()).isSameAs(first.reader());
      cache.checkin(again, true);

      ConsumerCache.Lease retried = cache.checkout(TP, true);
      assertThat(retried.reader()).isNotSameAs(first.reader());
      cache.checkin(retried, false);
      assertThat(cache.idleCount()).isZero();
      assertThat(created.get()).isEqualTo(3);
    }
  }

  @Test
  void closesConsumersIdleLongerThanTheTimeout(EmbeddedKafka kafka) {
    try (ConsumerCache cache =
        new ConsumerCache(
            () -> TestSupport.taskConsumer(kafka, false),
            DataLossPolicy.FAIL,
            Duration.ofMillis(1),
            true)) {
      cache.checkin(cache.checkout(TP, false), true);
      assertThat(cache.idleCount()).isEqualTo(1);
      org.awaitility.Awaitility.await()
          .pollInterval(Duration.ofMillis(5))
          .until(
              () -> {
                cache.evictIdle();
                return cache.idleCount() == 0;
              });
    }
  }
}
