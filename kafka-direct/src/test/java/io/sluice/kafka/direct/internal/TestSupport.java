package io.sluice.kafka.direct.internal;

import io.sluice.testkit.EmbeddedKafka;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Helpers shared by the module's broker tests. */
public final class TestSupport {

  private TestSupport() {}

  /** A topic name no other test uses. */
  public static String topic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** The stream-style Kafka parameters for {@code group}, optionally read_committed. */
  public static Map<String, Object> params(
      EmbeddedKafka kafka, String group, boolean readCommitted) {
    Map<String, Object> p = kafka.consumerConfig(group);
    p.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        readCommitted ? "read_committed" : "read_uncommitted");
    return p;
  }

  /** A task-style bytes consumer. */
  public static KafkaConsumer<ByteBuffer, ByteBuffer> taskConsumer(
      EmbeddedKafka kafka, boolean readCommitted) {
    return new KafkaConsumer<>(KafkaParams.taskConsumer(params(kafka, "unused", readCommitted)));
  }

  /** {@code n} records {@code prefix-i} with keys {@code k-i} to partition {@code partition}. */
  public static List<ProducerRecord<String, String>> records(
      String topic, int partition, String prefix, int n) {
    List<ProducerRecord<String, String>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new ProducerRecord<>(topic, partition, "k-" + i, prefix + "-" + i));
    }
    return out;
  }

  /** The offsets of {@code records}. */
  public static List<Long> offsets(List<? extends ConsumerRecord<?, ?>> records) {
    return records.stream().map(ConsumerRecord::offset).toList();
  }

  /** Offsets {@code from} (inclusive) to {@code until} (exclusive). */
  public static List<Long> offsetList(long from, long until) {
    List<Long> out = new ArrayList<>();
    for (long o = from; o < until; o++) {
      out.add(o);
    }
    return out;
  }

  /** The bytes of a buffer view, without moving it. */
  public static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(b.position(), out);
    return out;
  }

  /** The UTF-8 text of a buffer view. */
  public static String str(ByteBuffer b) {
    return new String(bytes(b), StandardCharsets.UTF_8);
  }
}
