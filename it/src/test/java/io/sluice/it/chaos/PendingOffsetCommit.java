package io.sluice.it.chaos;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A committer that dies inside its transaction: begins a transaction with the given transactional
 * id, adds offsets of a consumer group to it, prints {@code READY} and waits to be SIGKILLed,
 * leaving the group's offsets pending until the broker times the transaction out. Arguments:
 * bootstrap servers, transactional id, group, then {@code topic:partition:offset} entries.
 */
public final class PendingOffsetCommit {

  private PendingOffsetCommit() {}

  /** Runs until killed. */
  public static void main(String[] args) throws Exception {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, args[1]);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (int i = 3; i < args.length; i++) {
      String[] p = args[i].split(":");
      offsets.put(
          new TopicPartition(p[0], Integer.parseInt(p[1])),
          new OffsetAndMetadata(Long.parseLong(p[2])));
    }
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config);
    producer.initTransactions();
    producer.beginTransaction();
    producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(args[2]));
    System.out.println("READY");
    System.out.flush();
    while (System.in.read() >= 0) {
      // waits for SIGKILL; the transaction stays open
    }
    Thread.currentThread().join();
  }
}
