package io.sluice.kafka.direct.internal;

import static io.sluice.kafka.direct.internal.TestSupport.offsets;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.kafka.direct.BadRecordException;
import io.sluice.kafka.direct.DataLossPolicy;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.offsets.OffsetRange;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Task consumers that deserialize themselves (the fail and skip policies with deserializer
 * classes).
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class DeserializingConsumerTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final KafkaMetrics metrics = new KafkaMetrics(registry, "typed");

  @Test
  void theFailAndSkipPoliciesWithDeserializerClassesOrNamesLetTheConsumerDeserialize() {
    Map<String, Object> classes =
        Map.of(
            "key.deserializer",
            StringDeserializer.class,
            "value.deserializer",
            IntegerDeserializer.class.getName());
    assertThat(KafkaParams.consumerCanDeserialize(classes, ErrorPolicy.fail())).isTrue();
    assertThat(KafkaParams.consumerCanDeserialize(classes, ErrorPolicy.skip())).isTrue();
    assertThat(KafkaParams.consumerCanDeserialize(classes, ErrorPolicy.deadLetter("dlq")))
        .isFalse();
    assertThat(
            KafkaParams.consumerCanDeserialize(
                Map.of(
                    "key.deserializer",
                    StringDeserializer.class,
                    "value.deserializer",
                    new IntegerDeserializer()),
                ErrorPolicy.fail()))
        .isFalse();
    assertThat(
            KafkaParams.consumerCanDeserialize(
                Map.of(
                    "key.deserializer",
                    StringDeserializer.class,
                    "value.deserializer",
                    "no.such.Deserializer"),
                ErrorPolicy.fail()))
        .isFalse();
    assertThat(
            KafkaParams.consumerCanDeserialize(
                Map.of(
                    "key.deserializer",
                    StringDeserializer.class,
                    "value.deserializer",
                    String.class),
                ErrorPolicy.fail()))
        .isFalse();
  }

  @Test
  void aBadRecordPastTheRangeIsNeverLookedAtAndFailsTheRangeHoldingIt(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("typed");
    kafka.createTopic(topic, 1);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      byte[] value = i == 4 ? new byte[] {9} : ByteBuffer.allocate(4).putInt(i).array();
      records.add(new ProducerRecord<>(topic, 0, null, value));
    }
    kafka.produceBytes(records);
    Map<String, Object> params = TestSupport.params(kafka, "g", false);
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", IntegerDeserializer.class);
    assertThat(KafkaParams.consumerCanDeserialize(params, ErrorPolicy.fail())).isTrue();
    try (ConsumerCache cache =
        new ConsumerCache(
            () -> new KafkaConsumer<>(KafkaParams.taskConsumer(params, true)),
            DataLossPolicy.FAIL,
            Duration.ofMinutes(1),
            1)) {
      List<ConsumerRecord<String, Integer>> first = read(cache, new OffsetRange(topic, 0, 0, 4));
      assertThat(offsets(first)).containsExactly(0L, 1L, 2L, 3L);
      assertThat(first).extracting(ConsumerRecord::value).containsExactly(0, 1, 2, 3);
      assertThat(read(cache, new OffsetRange(topic, 0, 4, 4))).isEmpty();
      String typedMessage = catchBadRecord(() -> read(cache, new OffsetRange(topic, 0, 4, 6)));
      assertThat(typedMessage).contains(topic + "-0 offset 4");
      // The same message as when the task decodes the bytes itself.
      try (ConsumerCache bytes =
          new ConsumerCache(
              () -> new KafkaConsumer<>(KafkaParams.taskConsumer(params)),
              DataLossPolicy.FAIL,
              Duration.ofMinutes(1),
              1)) {
        String decodedMessage =
            catchBadRecord(
                () -> {
                  RangeIterator<String, Integer> it =
                      new RangeIterator<>(
                          bytes,
                          new OffsetRange(topic, 0, 4, 6),
                          false,
                          new RecordDecoder<>(params, ErrorPolicy.fail(), null, metrics, -1),
                          TIMEOUT,
                          metrics);
                  it.forEachRemaining(r -> {});
                });
        assertThat(typedMessage).isEqualTo(decodedMessage);
      }
      // The failed reader was closed; a fresh one reads the good record after the bad one.
      assertThat(read(cache, new OffsetRange(topic, 0, 5, 6)))
          .extracting(ConsumerRecord::value)
          .containsExactly(5);
    }
  }

  @Test
  void theSkipPolicyCountsBadRecordsInsideTheRangeAndReadsOnAfterThem(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("typed-skip");
    kafka.createTopic(topic, 1);
    // Bad (one byte, not an int) at 2, 3 (two in a row), 5 and 7 (the last of the first range).
    java.util.Set<Integer> bad = java.util.Set.of(2, 3, 5, 7);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      byte[] value = bad.contains(i) ? new byte[] {9} : ByteBuffer.allocate(4).putInt(i).array();
      records.add(new ProducerRecord<>(topic, 0, null, value));
    }
    kafka.produceBytes(records);
    Map<String, Object> params = TestSupport.params(kafka, "g", false);
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", IntegerDeserializer.class);
    try (ConsumerCache cache =
        new ConsumerCache(
            () -> new KafkaConsumer<>(KafkaParams.taskConsumer(params, true)),
            DataLossPolicy.FAIL,
            Duration.ofMinutes(1),
            1)) {
      List<ConsumerRecord<String, Integer>> first =
          skipping(cache, new OffsetRange(topic, 0, 0, 8));
      assertThat(offsets(first)).containsExactly(0L, 1L, 4L, 6L);
      assertThat(first).extracting(ConsumerRecord::value).containsExactly(0, 1, 4, 6);
      assertThat(skippedCount()).isEqualTo(4.0);
      // The next range continues on the same consumer, after the skipped last record.
      List<ConsumerRecord<String, Integer>> second =
          skipping(cache, new OffsetRange(topic, 0, 8, 11));
      assertThat(second).extracting(ConsumerRecord::value).containsExactly(8, 9, 10);
      assertThat(registry.get(KafkaMetrics.PARTITION_RECORDS).summary().totalAmount())
          .isEqualTo(7.0);
      // A range ending before a bad record never looks at it, nor counts it.
      assertThat(skipping(cache, new OffsetRange(topic, 0, 4, 5)))
          .extracting(ConsumerRecord::value)
          .containsExactly(4);
      assertThat(skippedCount()).isEqualTo(4.0);
    }
  }

  private double skippedCount() {
    return registry.get(KafkaMetrics.BAD_RECORDS).tag("policy", "skip").counter().count();
  }

  private List<ConsumerRecord<String, Integer>> skipping(ConsumerCache cache, OffsetRange range) {
    RangeIterator<String, Integer> it =
        RangeIterator.skippingBadRecords(cache, range, false, TIMEOUT, metrics);
    List<ConsumerRecord<String, Integer>> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  private List<ConsumerRecord<String, Integer>> read(ConsumerCache cache, OffsetRange range) {
    RangeIterator<String, Integer> it = new RangeIterator<>(cache, range, false, TIMEOUT, metrics);
    List<ConsumerRecord<String, Integer>> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  private static String catchBadRecord(Runnable read) {
    Throwable[] thrown = new Throwable[1];
    assertThatThrownBy(
            () -> {
              try {
                read.run();
              } catch (RuntimeException e) {
                thrown[0] = e;
                throw e;
              }
            })
        .isInstanceOf(BadRecordException.class);
    return thrown[0].getMessage();
  }
}
