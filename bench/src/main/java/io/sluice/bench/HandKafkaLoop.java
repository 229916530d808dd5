package io.sluice.bench;

import io.sluice.offsets.KafkaGroupOffsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The hand-written exactly-once Kafka → Kafka loop: one consumer over every input partition and one
 * transactional producer on one thread: poll, transform, send; every {@code txnRecords} records
 * (exactly, cutting a poll's records where the count is reached) flush, add the consumed positions
 * with {@code sendOffsetsToTransaction} and commit. With a fence admin it also reads the group's
 * stable committed offsets twice before adding its own, as Sluice's {@code TransactionalProducer}
 * does, so the cost of that check can be measured apart. Each phase is timed on the loop's thread.
 */
final class HandKafkaLoop {

  /** The timed phases of the loop, in the order a transaction goes through them. */
  enum Phase {
    POLL("poll"),
    SEND("transform+send"),
    FLUSH("flush"),
    FENCE("fence (2 x listConsumerGroupOffsets)"),
    OFFSETS("sendOffsetsToTransaction"),
    COMMIT("commitTransaction");

    final String label;

    Phase(String label) {
      this.label = label;
    }
  }

  /**
   * What to run.
   *
   * @param consumerConfig consumer settings (group id, deserializers, {@code read_committed})
   * @param producerConfig producer settings including the {@code transactional.id}
   * @param ends each input partition's end offset: the loop stops once it consumed up to them
   * @param outTopic the topic to write
   * @param group the consumer group whose offsets the transactions commit
   * @param txnRecords records per transaction; 0 to commit by time only
   * @param commitIntervalMs also commit once this much time passed since the last commit; 0: never
   * @param fenceAdmin reads the group's offsets before each commit, as Sluice does; null: no fence
   */
  record Settings(
      Map<String, Object> consumerConfig,
      Map<String, Object> producerConfig,
      Map<TopicPartition, Long> ends,
      String outTopic,
      String group,
      long txnRecords,
      long commitIntervalMs,
      Admin fenceAdmin) {}

  /** What a run did: records sent, transactions committed, seconds to the last commit, phases. */
  record Result(
      long records, long transactions, double seconds, double closeMs, Map<Phase, Long> nanos) {

    double recordsPerTransaction() {
      return transactions == 0 ? 0 : (double) records / transactions;
    }

    /** One line: transactions, mean records per transaction and each phase's mean ms per txn. */
    String describe() {
      StringBuilder b =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "%d transactions, mean %,.0f records/txn; ms per txn:",
                  transactions,
                  recordsPerTransaction()));
      for (Phase p : Phase.values()) {
        long n = nanos.getOrDefault(p, 0L);
        if (n > 0) {
          b.append(
              String.format(Locale.ROOT, " %s %.1f", p.label, n / 1e6 / Math.max(1, transactions)));
        }
      }
      return b.toString();
    }
  }

  private final Settings s;
  private final Map<Phase, Long> nanos = new EnumMap<>(Phase.class);
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private final ConsumerGroupMetadata groupMetadata;
  private KafkaProducer<String, String> producer;
  private long transactions;

  private HandKafkaLoop(Settings s) {
    this.s = s;
    this.groupMetadata = new ConsumerGroupMetadata(s.group());
  }

  /**
   * Runs the loop to the input's end offsets. Timed from the clients' creation to the last commit;
   * their close is reported apart.
   */
  static Result run(Settings settings) {
    return new HandKafkaLoop(settings).run();
  }

  private Result run() {
    long t0 = System.nanoTime();
    long sent = 0;
    double seconds;
    long closeStart;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(s.consumerConfig());
        KafkaProducer<String, String> p = new KafkaProducer<>(s.producerConfig())) {
      producer = p;
      producer.initTransactions();
      consumer.assign(s.ends().keySet());
      consumer.seekToBeginning(s.ends().keySet());
      Map<TopicPartition, Long> next = new HashMap<>();
      for (TopicPartition tp : s.ends().keySet()) {
        next.put(tp, consumer.position(tp));
      }
      producer.beginTransaction();
      long inTxn = 0;
      long lastCommit = System.nanoTime();
      while (true) {
        long a = System.nanoTime();
        ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
        long b = System.nanoTime();
        add(Phase.POLL, b - a);
        long committing = 0;
        for (TopicPartition tp : polled.partitions()) {
          List<ConsumerRecord<String, String>> rs = polled.records(tp);
          for (ConsumerRecord<String, String> r : rs) {
            producer.send(
                new ProducerRecord<>(s.outTopic(), KafkaToKafkaBench.transform(r.value())));
            sent++;
            if (++inTxn == s.txnRecords()) {
              next.put(tp, r.offset() + 1);
              long c = System.nanoTime();
              commit(next);
              producer.beginTransaction();
              inTxn = 0;
              lastCommit = System.nanoTime();
              committing += lastCommit - c;
            }
          }
          next.put(tp, rs.get(rs.size() - 1).offset() + 1);
        }
        add(Phase.SEND, System.nanoTime() - b - committing);
        boolean done = true;
        for (Map.Entry<TopicPartition, Long> e : s.ends().entrySet()) {
          long pos = consumer.position(e.getKey());
          next.put(e.getKey(), pos);
          done &= pos >= e.getValue();
        }
        boolean due =
            s.commitIntervalMs() > 0
                && System.nanoTime() - lastCommit >= s.commitIntervalMs() * 1_000_000;
        if (done || due) {
          if (inTxn > 0 || !next.equals(committed)) {
            commit(next);
          } else {
            producer.abortTransaction(); // empty: nothing was added to it
          }
          if (done) {
            break;
          }
          producer.beginTransaction();
          inTxn = 0;
          lastCommit = System.nanoTime();
        }
      }
      seconds = Passes.secondsSince(t0);
      closeStart = System.nanoTime();
    }
    return new Result(sent, transactions, seconds, (System.nanoTime() - closeStart) / 1e6, nanos);
  }

  /** Flush, optionally fence, add the offsets and commit; each phase timed. */
  private void commit(Map<TopicPartition, Long> next) {
    long t = System.nanoTime();
    producer.flush();
    t = lap(Phase.FLUSH, t);
    if (s.fenceAdmin() != null) {
      Map<TopicPartition, OffsetAndMetadata> stable =
          KafkaGroupOffsets.readStable(s.fenceAdmin(), s.group(), Duration.ofSeconds(30));
      stable.forEach(
          (tp, om) -> {
            if (om.offset() != committed.get(tp)) {
              throw new IllegalStateException(
                  "group " + s.group() + " moved: " + tp + " at " + om.offset());
            }
          });
      t = lap(Phase.FENCE, t);
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    next.forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o)));
    producer.sendOffsetsToTransaction(offsets, groupMetadata);
    t = lap(Phase.OFFSETS, t);
    producer.commitTransaction();
    lap(Phase.COMMIT, t);
    committed.putAll(next);
    transactions++;
  }

  private long lap(Phase phase, long since) {
    long now = System.nanoTime();
    add(phase, now - since);
    return now;
  }

  private void add(Phase phase, long n) {
    nanos.merge(phase, n, Long::sum);
  }
}
