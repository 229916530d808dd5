package io.sluice.kafka.direct.internal;

import static io.sluice.kafka.direct.internal.TestSupport.offsetList;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedKafkaExtension.class)
class RangeIteratorTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final KafkaMetrics metrics = new KafkaMetrics(registry, "poison");

  /** Values 0..4 as 4-byte ints, with a 3-byte poison pill at offset 2. */
  private static String poisonedTopic(EmbeddedKafka kafka) {
    String topic = TestSupport.topic("poison");
    kafka.createTopic(topic, 1);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      byte[] value = i == 2 ? new byte[] {1, 2, 3} : ByteBuffer.allocate(4).putInt(i).array();
      ProducerRecord<byte[], byte[]> r =
          new ProducerRecord<>(topic, 0, ("k" + i).getBytes(StandardCharsets.UTF_8), value);
      r.headers().add(new RecordHeader("origin", "test".getBytes(StandardCharsets.UTF_8)));
      records.add(r);
    }
    kafka.produceBytes(records);
    return topic;
  }

  private List<ConsumerRecord<String, Integer>> readAll(
      EmbeddedKafka kafka, String topic, ErrorPolicy policy, DeadLetterSender dlq) {
    Map<String, Object> params = TestSupport.params(kafka, "g", false);
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", IntegerDeserializer.class.getName());
    try (ConsumerCache cache =
        new ConsumerCache(
            () -> new KafkaConsumer<>(KafkaParams.taskConsumer(params)),
            DataLossPolicy.FAIL,
            Duration.ofMinutes(1),
            1)) {
      RangeIterator<String, Integer> it =
          new RangeIterator<>(
              cache,
              new OffsetRange(topic, 0, 0, 5),
              false,
              new RecordDecoder<>(params, policy, dlq, metrics, -1),
              Duration.ofSeconds(5),
              metrics);
      List<ConsumerRecord<String, Integer>> out = new ArrayList<>();
      it.forEachRemaining(out::add);
      return out;
    }
  }

  @Test
  void failPolicyNamesTopicPartitionAndOffset(EmbeddedKafka kafka) {
    String topic = poisonedTopic(kafka);
    assertThatThrownBy(() -> readAll(kafka, topic, ErrorPolicy.fail(), null))
        .isInstanceOf(BadRecordException.class)
        .hasMessageContaining(topic + "-0 offset 2");
  }

  @Test
  void skipPolicyDropsAndCountsThePoisonPill(EmbeddedKafka kafka) {
    String topic = poisonedTopic(kafka);
    List<ConsumerRecord<String, Integer>> out = readAll(kafka, topic, ErrorPolicy.skip(), null);
    assertThat(offsets(out)).containsExactly(0L, 1L, 3L, 4L);
    assertThat(out).extracting(ConsumerRecord::value).containsExactly(0, 1, 3, 4);
    assertThat(out).extracting(ConsumerRecord::key).containsExactly("k0", "k1", "k3", "k4");
    assertThat(registry.get(KafkaMetrics.BAD_RECORDS).tag("policy", "skip").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get(KafkaMetrics.PARTITION_RECORDS).summary().totalAmount()).isEqualTo(4.0);
  }

  @Test
  void deadLetterPolicySendsRawBytesWithErrorHeaders(EmbeddedKafka kafka) {
    String topic = poisonedTopic(kafka);
    String dlqTopic = topic + "-dlq";
    kafka.createTopic(dlqTopic, 1);
    Map<String, Object> params = TestSupport.params(kafka, "g", false);
    try (DeadLetterSender dlq =
        new DeadLetterSender(dlqTopic, KafkaParams.deadLetterProducer(params, Map.of()))) {
      List<ConsumerRecord<String, Integer>> out =
          readAll(kafka, topic, ErrorPolicy.deadLetter(dlqTopic), dlq);
      assertThat(offsets(out)).containsExactly(0L, 1L, 3L, 4L);
    }
    KafkaConsumer<ByteBuffer, ByteBuffer> reader = TestSupport.taskConsumer(kafka, false);
    try (PartitionReader pr =
        new PartitionReader(
            reader, new org.apache.kafka.common.TopicPartition(dlqTopic, 0), DataLossPolicy.FAIL)) {
      List<ConsumerRecord<ByteBuffer, ByteBuffer>> letters =
          PartitionReaderTest.read(pr, new OffsetRange(dlqTopic, 0, 0, 1), Duration.ofSeconds(5));
      assertThat(offsets(letters)).isEqualTo(offsetList(0, 1));
      ConsumerRecord<ByteBuffer, ByteBuffer> letter = letters.get(0);
      assertThat(TestSupport.bytes(letter.key())).isEqualTo("k2".getBytes(StandardCharsets.UTF_8));
      assertThat(TestSupport.bytes(letter.value())).isEqualTo(new byte[] {1, 2, 3});
      assertThat(header(letter, "origin")).isEqualTo("test");
      assertThat(header(letter, DeadLetterSender.H_TOPIC)).isEqualTo(topic);
      assertThat(header(letter, DeadLetterSender.H_PARTITION)).isEqualTo("0");
      assertThat(header(letter, DeadLetterSender.H_OFFSET)).isEqualTo("2");
      assertThat(header(letter, DeadLetterSender.H_EXCEPTION_CLASS))
          .isEqualTo("org.apache.kafka.common.errors.SerializationException");
      assertThat(header(letter, DeadLetterSender.H_EXCEPTION_MESSAGE)).contains("4");
    }
  }

  private static String header(ConsumerRecord<ByteBuffer, ByteBuffer> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
