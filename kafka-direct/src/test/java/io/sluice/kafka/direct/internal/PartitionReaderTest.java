package io.sluice.kafka.direct.internal;

import static io.sluice.kafka.direct.internal.TestSupport.offsetList;
import static io.sluice.kafka.direct.internal.TestSupport.offsets;
import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.kafka.direct.DataLossException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.FetchTimeoutException;
import io.sluice.offsets.OffsetRange;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class PartitionReaderTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  static List<ConsumerRecord<ByteBuffer, ByteBuffer>> read(
      PartitionReader reader, OffsetRange range, Duration timeout) {
    reader.start(range);
    List<ConsumerRecord<ByteBuffer, ByteBuffer>> out = new ArrayList<>();
    for (ConsumerRecord<ByteBuffer, ByteBuffer> r; (r = reader.next(range, timeout)) != null; ) {
      out.add(r);
    }
    return out;
  }

  @Test
  void readsExactlyTheRangeAndContinuesOrSeeksBack(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("reader-plain");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 20));
    TopicPartition tp = new TopicPartition(topic, 0);
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.FAIL)) {
      assertThat(offsets(read(reader, OffsetRange.of(tp, 5, 12), TIMEOUT)))
          .isEqualTo(offsetList(5, 12));
      assertThat(offsets(read(reader, OffsetRange.of(tp, 12, 20), TIMEOUT)))
          .isEqualTo(offsetList(12, 20));
      assertThat(offsets(read(reader, OffsetRange.of(tp, 3, 6), TIMEOUT)))
          .isEqualTo(offsetList(3, 6));
      assertThat(offsets(read(reader, OffsetRange.of(tp, 6, 6), TIMEOUT))).isEmpty();
      assertThat(TestSupport.str(read(reader, OffsetRange.of(tp, 6, 7), TIMEOUT).get(0).value()))
          .isEqualTo("v-6");
    }
  }

  @Test
  void skipsAbortedRecordsAndMarkersWithoutStallingOnATrailingMarker(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("reader-txn");
    kafka.createTopic(topic, 1);
    kafka.produceCommitted(records(topic, 0, "a", 3)); // 0..2, marker 3
    kafka.produceAborted(records(topic, 0, "x", 2)); // 4..5, marker 6
    kafka.produceCommitted(records(topic, 0, "b", 2)); // 7..8, marker 9
    TopicPartition tp = new TopicPartition(topic, 0);
    // Transaction markers are written after the commit or abort returns.
    org.awaitility.Awaitility.await().until(() -> kafka.endOffsets(topic).get(tp) == 10L);
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, true), tp, DataLossPolicy.FAIL)) {
      long t0 = System.nanoTime();
      List<ConsumerRecord<ByteBuffer, ByteBuffer>> all =
          read(reader, OffsetRange.of(tp, 0, 10), TIMEOUT);
      assertThat(offsets(all)).containsExactly(0L, 1L, 2L, 7L, 8L);
      assertThat(all)
          .extracting(r -> TestSupport.str(r.value()))
          .containsExactly("a-0", "a-1", "a-2", "b-0", "b-1");
      assertThat(offsets(read(reader, OffsetRange.of(tp, 3, 7), TIMEOUT))).isEmpty();
      assertThat(offsets(read(reader, OffsetRange.of(tp, 9, 10), TIMEOUT))).isEmpty();
      assertThat(offsets(read(reader, OffsetRange.of(tp, 2, 8), TIMEOUT))).containsExactly(2L, 7L);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void failsAfterPollTimeoutWithoutProgressNamingTheRange(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("reader-timeout");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 5));
    TopicPartition tp = new TopicPartition(topic, 0);
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.FAIL)) {
      assertThatThrownBy(() -> read(reader, OffsetRange.of(tp, 0, 100), Duration.ofMillis(400)))
          .isInstanceOf(FetchTimeoutException.class)
          .hasMessageContaining(topic + "-0 [0, 100)")
          .hasMessageContaining("topic " + topic + ", partition 0")
          .hasMessageContaining("position stuck at 5");
    }
  }

  @Test
  void deletedOffsetsFailUnderFailAndAreSkippedUnderSkip(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("reader-loss");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "v", 10));
    TopicPartition tp = new TopicPartition(topic, 0);
    kafka.deleteRecordsBefore(tp, 5);
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.FAIL)) {
      assertThatThrownBy(() -> read(reader, OffsetRange.of(tp, 2, 10), TIMEOUT))
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining(tp.toString())
          .hasMessageContaining("expected offset 2")
          .hasMessageContaining("[5, 10)");
    }
    try (PartitionReader reader =
        new PartitionReader(TestSupport.taskConsumer(kafka, false), tp, DataLossPolicy.SKIP)) {
      assertThat(offsets(read(reader, OffsetRange.of(tp, 2, 10), TIMEOUT)))
          .isEqualTo(offsetList(5, 10));
      assertThat(reader.skippedOffsets()).isEqualTo(3);
    }
  }
}
