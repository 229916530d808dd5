package io.sluice.kafka.receiver;

import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.testkit.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.zookeeper.KeeperException;

/**
 * A context on a {@link ManualClock} collecting every record its Kafka receiver stream delivers,
 * with the helpers the module's broker tests share.
 */
public final class ReceiverHarness implements AutoCloseable {

  /** The batch interval; {@link #runBatch()} advances the clock by it. */
  public static final Duration INTERVAL = Duration.ofSeconds(1);

  /** How long any wait of these tests may take. */
  public static final Duration WAIT = Duration.ofSeconds(45);

  /** The context. */
  public final StreamingContext ctx;

  /** Its clock. */
  public final ManualClock clock;

  /** Every record delivered, as {@link #describe(ConsumerRecord)}, in delivery order. */
  public final List<String> seen = new CopyOnWriteArrayList<>();

  /** The first batch failure, if any. */
  public final AtomicReference<Throwable> failure = new AtomicReference<>();

  private final AtomicInteger completed = new AtomicInteger();

  /**
   * A context keeping its checkpoint (and, when {@code writeAheadLog}, the receiver log) in {@code
   * checkpointDir} (null: none), whose clock starts at {@code startSecond}: a restarted run needs a
   * clock past the previous run's batch times.
   */
  public ReceiverHarness(Path checkpointDir, boolean writeAheadLog, long startSecond) {
    clock = new ManualClock(Instant.ofEpochSecond(startSecond));
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("kafka-receiver-test")
            .batchInterval(INTERVAL)
            .parallelism(2)
            .clock(clock)
            .receiverWriteAheadLog(writeAheadLog);
    if (checkpointDir != null) {
      b.checkpointDir(checkpointDir);
    }
    ctx = b.build();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.incrementAndGet();
          }

          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failure.compareAndSet(null, cause);
          }
        });
  }

  /** Collects every record of {@code stream}. */
  public void collect(DStream<ConsumerRecord<String, String>> stream) {
    stream.foreachBatch(
        (rdd, batch) -> {
          List<String> records = new ArrayList<>();
          for (ConsumerRecord<String, String> r : rdd.collect()) {
            records.add(describe(r));
          }
          seen.addAll(records);
        });
  }

  /** Runs one batch and waits until it completed. */
  public void runBatch() {
    int before = completed.get();
    clock.advance(INTERVAL);
    await().atMost(WAIT).until(() -> completed.get() > before || failure.get() != null);
    if (failure.get() != null) {
      throw new AssertionError("a batch failed", failure.get());
    }
  }

  @Override
  public void close() {
    ctx.stop(false);
  }

  /** {@code topic-partition@offset key=value [headers]}, the form the tests compare. */
  public static String describe(ConsumerRecord<String, String> r) {
    StringBuilder s =
        new StringBuilder(
            r.topic() + "-" + r.partition() + "@" + r.offset() + " " + r.key() + "=" + r.value());
    r.headers()
        .forEach(
            h ->
                s.append(" ")
                    .append(h.key())
                    .append(":")
                    .append(
                        h.value() == null
                            ? "null"
                            : new String(h.value(), StandardCharsets.UTF_8)));
    return s.toString();
  }

  /**
   * Produces {@link #records} (in one transaction when {@code committed}, so each partition's
   * commit marker takes an offset after them) and returns them as {@link #describe(ConsumerRecord)}
   * shows them once received.
   */
  public static List<String> produce(
      EmbeddedKafka kafka,
      String topic,
      int partitions,
      int from,
      int n,
      String prefix,
      boolean committed) {
    List<ProducerRecord<String, String>> records = records(topic, partitions, from, n, prefix);
    List<RecordMetadata> sent =
        committed ? kafka.produceCommitted(records) : kafka.produce(records);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RecordMetadata m = sent.get(i);
      int k = from + i;
      out.add(
          topic
              + "-"
              + m.partition()
              + "@"
              + m.offset()
              + " k-"
              + k
              + "="
              + prefix
              + "-"
              + k
              + " n:"
              + k);
    }
    return out;
  }

  /** A name no other test uses. */
  public static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * The receiver's Kafka parameters for {@code group}: String deserializers, earliest, heartbeats
   * every 200 ms so rebalances are quick.
   */
  public static Map<String, Object> params(EmbeddedKafka kafka, String group) {
    Map<String, Object> p = new HashMap<>(kafka.consumerConfig(group));
    p.remove(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 200);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 7);
    return p;
  }

  /**
   * {@code n} records {@code k-i = prefix-i} with header {@code n:i}, record {@code i} to partition
   * {@code i % partitions}.
   */
  public static List<ProducerRecord<String, String>> records(
      String topic, int partitions, int from, int n, String prefix) {
    List<ProducerRecord<String, String>> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      ProducerRecord<String, String> r =
          new ProducerRecord<>(topic, i % partitions, "k-" + i, prefix + "-" + i);
      r.headers().add("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
      out.add(r);
    }
    return out;
  }

  /** A started Curator client of {@code connectString}; the caller closes it. */
  public static CuratorFramework curator(String connectString) {
    CuratorFramework c = CuratorFrameworkFactory.newClient(connectString, new RetryOneTime(100));
    c.start();
    try {
      if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("cannot connect to ZooKeeper at " + connectString);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return c;
  }

  /**
   * The offsets in the znodes {@code /consumers/<group>/offsets/<topic>/<p>} for {@code p <
   * partitions}; partitions without a znode are absent.
   */
  public static Map<TopicPartition, Long> zooKeeperOffsets(
      CuratorFramework zk, String group, String topic, int partitions) {
    Map<TopicPartition, Long> out = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      try {
        byte[] data = zk.getData().forPath("/consumers/" + group + "/offsets/" + topic + "/" + p);
        out.put(
            new TopicPartition(topic, p),
            Long.parseLong(new String(data, StandardCharsets.UTF_8).trim()));
      } catch (KeeperException.NoNodeException e) {
        // not committed yet
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  /** The committed offsets of Kafka consumer group {@code group}. */
  public static Map<TopicPartition, Long> groupOffsets(EmbeddedKafka kafka, String group) {
    try (var admin = kafka.admin()) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      Map<TopicPartition, Long> out = new HashMap<>();
      committed.forEach((tp, o) -> out.put(tp, o.offset()));
      return out;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
