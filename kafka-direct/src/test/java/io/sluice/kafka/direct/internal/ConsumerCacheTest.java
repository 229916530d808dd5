package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.offsets.OffsetRange;
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
            1)) {
      ConsumerCache.Lease first = cache.checkout(TP, 0, false);
      ConsumerCache.Lease concurrent = cache.checkout(TP, 0, false);
      assertThat(first.cached()).isTrue();
      assertThat(concurrent.cached()).isFalse();
      assertThat(concurrent.reader()).isNotSameAs(first.reader());
      cache.checkin(concurrent, true);
      cache.checkin(first, true);
      assertThat(cache.idleCount()).isEqualTo(1);

      ConsumerCache.Lease again = cache.checkout(TP, 0, false);
      assertThat(again.reader()).isSameAs(first.reader());
      cache.checkin(again, true);

      ConsumerCache.Lease retried = cache.checkout(TP, 0, true);
      assertThat(retried.reader()).isNotSameAs(first.reader());
      cache.checkin(retried, false);
      assertThat(cache.idleCount()).isZero();
      assertThat(created.get()).isEqualTo(3);
    }
  }

  @Test
  void keepsSeveralReadersPerPartitionAndHandsOutTheOneStandingWhereTheRangeBegins(
      EmbeddedKafka kafka) {
    AtomicInteger created = new AtomicInteger();
    try (ConsumerCache cache =
        new ConsumerCache(
            () -> {
              created.incrementAndGet();
              return TestSupport.taskConsumer(kafka, false);
            },
            DataLossPolicy.FAIL,
            Duration.ofMinutes(1),
            2)) {
      ConsumerCache.Lease low = cache.checkout(TP, 0, false);
      ConsumerCache.Lease high = cache.checkout(TP, 10, false);
      ConsumerCache.Lease third = cache.checkout(TP, 20, false);
      assertThat(low.cached()).isTrue();
      assertThat(high.cached()).isTrue();
      assertThat(third.cached()).as("a partition keeps at most 2 readers").isFalse();
      low.reader().start(OffsetRange.of(TP, 0, 10));
      high.reader().start(OffsetRange.of(TP, 10, 20));
      cache.checkin(third, true);
      cache.checkin(high, true);
      cache.checkin(low, true);
      assertThat(cache.idleCount()).isEqualTo(2);
      assertThat(created.get()).isEqualTo(3);

      // the reader that stands at 10 (it started [10, 20) and read nothing yet) is handed out for a
      // range from 10, whatever the order of check-in; the other one for any other range
      ConsumerCache.Lease at10 = cache.checkout(TP, 10, false);
      assertThat(at10.reader()).isSameAs(high.reader());
      ConsumerCache.Lease elsewhere = cache.checkout(TP, 500, false);
      assertThat(elsewhere.reader()).isSameAs(low.reader());
      cache.checkin(at10, true);
      cache.checkin(elsewhere, false);
      assertThat(cache.idleCount()).isEqualTo(1);
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
            1)) {
      cache.checkin(cache.checkout(TP, 0, false), true);
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
