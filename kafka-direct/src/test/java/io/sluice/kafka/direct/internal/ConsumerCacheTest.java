package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.offsets.OffsetRange;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
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

  /** Long enough that a prepared reader's one poll returns because its records arrived. */
  private static final Duration READ_AHEAD_POLL = Duration.ofSeconds(30);

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @Test
  void preparesAReaderForEachPartitionWithoutOneSoThatItsTaskFindsTheFirstRecordsFetched(
      EmbeddedKafka kafka) {
    String topic = TestSupport.topic("read-ahead");
    kafka.createTopic(topic, 3);
    kafka.produce(TestSupport.records(topic, 0, "a", 20));
    kafka.produce(TestSupport.records(topic, 1, "b", 20));
    TopicPartition p0 = new TopicPartition(topic, 0);
    TopicPartition p1 = new TopicPartition(topic, 1);
    TopicPartition p2 = new TopicPartition(topic, 2);
    OffsetRange r0 = OffsetRange.of(p0, 0, 10);
    OffsetRange r1 = OffsetRange.of(p1, 5, 15);
    AtomicInteger created = new AtomicInteger();
    try (ConsumerCache cache = cache(kafka, created, null, DataLossPolicy.FAIL)) {
      // p2's range is empty: nothing to read, no reader
      cache.readAhead(List.of(r0, r1, OffsetRange.of(p2, 0, 0)));
      await().atMost(TIMEOUT).until(() -> cache.idleCount() == 2);
      assertThat(created).hasValue(2);

      ConsumerCache.Lease l0 = cache.checkout(p0, 0, false);
      ConsumerCache.Lease l1 = cache.checkout(p1, 5, false);
      assertThat(created).as("the tasks take the prepared readers").hasValue(2);
      assertThat(firstRun(l0.reader(), r0)).isEqualTo(TestSupport.offsetList(0, 10));
      assertThat(firstRun(l1.reader(), r1)).isEqualTo(TestSupport.offsetList(5, 15));
      assertThat(l0.reader().pollNanos())
          .as("the range's records were fetched before the task took the reader")
          .isZero();
      assertThat(l1.reader().pollNanos()).isZero();
      cache.checkin(l0, true);
      cache.checkin(l1, true);

      // partitions that have readers are not prepared again
      cache.readAhead(List.of(OffsetRange.of(p0, 10, 20), OffsetRange.of(p1, 15, 20)));
      assertThat(cache.idleCount()).isEqualTo(2);
      assertThat(created).hasValue(2);
    }
  }

  @Test
  void aTaskBeforeItsPreparationBeginsMakesItsOwnReaderAndOneUnderWayIsAwaited(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("read-ahead-race");
    kafka.createTopic(topic, 2);
    kafka.produce(TestSupport.records(topic, 0, "a", 10));
    kafka.produce(TestSupport.records(topic, 1, "b", 10));
    TopicPartition p0 = new TopicPartition(topic, 0);
    TopicPartition p1 = new TopicPartition(topic, 1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger created = new AtomicInteger();
    ConsumerCache cache = cache(kafka, created, release, DataLossPolicy.FAIL);
    try {
      // one read-ahead thread: p0's preparation holds it (its consumer is being made), p1's waits
      cache.readAhead(List.of(OffsetRange.of(p0, 0, 10), OffsetRange.of(p1, 0, 10)));
      await().atMost(TIMEOUT).until(() -> created.get() >= 1);

      ConsumerCache.Lease own = cache.checkout(p1, 0, false);
      assertThat(created).as("p1's task made its own reader").hasValue(2);
      assertThat(own.cached()).isTrue();

      FutureTask<ConsumerCache.Lease> waiting =
          new FutureTask<>(() -> cache.checkout(p0, 0, false));
      Thread task = new Thread(waiting, "p0-task");
      task.start();
      // p0's task waits (Object.wait in the cache) for the reader under way
      await().atMost(TIMEOUT).until(() -> task.getState() == Thread.State.WAITING);
      assertThat(waiting).isNotDone();
      assertThat(created).as("p0's task made no reader of its own").hasValue(2);
      release.countDown();
      ConsumerCache.Lease prepared = waiting.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertThat(firstRun(prepared.reader(), OffsetRange.of(p0, 0, 10)))
          .isEqualTo(TestSupport.offsetList(0, 10));
      assertThat(prepared.reader().pollNanos()).isZero();
      cache.checkin(prepared, true);
      cache.checkin(own, true);
    } finally {
      release.countDown();
      cache.close();
    }
    // close waited for the read-ahead thread: p1's dropped preparation never made a reader
    assertThat(created).hasValue(2);
  }

  @Test
  void aPreparationThatFailsIsDroppedAndTheTaskMeetsTheFailureUnderItsPolicy(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("read-ahead-lost");
    kafka.createTopic(topic, 1);
    kafka.produce(TestSupport.records(topic, 0, "a", 20));
    TopicPartition p0 = new TopicPartition(topic, 0);
    kafka.deleteRecordsBefore(p0, 12);
    OffsetRange range = OffsetRange.of(p0, 0, 20);
    AtomicInteger created = new AtomicInteger();
    try (ConsumerCache cache = cache(kafka, created, null, DataLossPolicy.FAIL)) {
      cache.readAhead(List.of(range));
      await().atMost(TIMEOUT).until(() -> created.get() >= 1);
      ConsumerCache.Lease lease = cache.checkout(p0, 0, false);
      assertThat(created).as("the failed preparation's reader was dropped").hasValue(2);
      assertThat(cache.idleCount()).isZero();
      lease.reader().start(range);
      assertThatThrownBy(() -> lease.reader().nextRun(range, TIMEOUT))
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining("offset 0 is before the log start 12");
      cache.checkin(lease, false);
    }
  }

  /**
   * A cache of task consumers counted in {@code created}; the first is made only once {@code
   * release} (when not null) is counted down.
   */
  private static ConsumerCache cache(
      EmbeddedKafka kafka, AtomicInteger created, CountDownLatch release, DataLossPolicy policy) {
    return new ConsumerCache(
        () -> {
          if (created.incrementAndGet() == 1 && release != null) {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return TestSupport.taskConsumer(kafka, false);
        },
        policy,
        Duration.ofMinutes(1),
        1,
        READ_AHEAD_POLL);
  }

  /** Starts {@code range} on {@code reader} and returns the offsets of its first run. */
  private static List<Long> firstRun(PartitionReader reader, OffsetRange range) {
    reader.start(range);
    assertThat(reader.nextRun(range, TIMEOUT)).isTrue();
    List<org.apache.kafka.clients.consumer.ConsumerRecord<ByteBuffer, ByteBuffer>> run =
        reader.run();
    return TestSupport.offsets(run.subList(reader.runStart(), reader.runEnd()));
  }
}
