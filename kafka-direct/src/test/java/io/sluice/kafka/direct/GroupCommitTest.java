package io.sluice.kafka.direct;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.internal.TestSupport;
import io.sluice.offsets.OffsetRange;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A consumer-group commit that waits never holds up the planning of the next batch. */
@ExtendWith(EmbeddedKafkaExtension.class)
class GroupCommitTest {

  /**
   * Holds the first batch commit of a group until released: on the committer thread, where a stream
   * that commits its own offsets commits them beside the next batch's jobs.
   */
  static final class Gate {
    final AtomicBoolean armed = new AtomicBoolean(true);
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
  }

  static final Map<String, Gate> GATES = new ConcurrentHashMap<>();

  /**
   * Blocks in {@code onCommit}, which Kafka calls on the committing thread inside {@code
   * commitSync}: the consumer that commits stays busy for as long as the gate is closed.
   */
  public static final class BlockingCommitInterceptor
      implements ConsumerInterceptor<Object, Object> {
    private Gate gate;

    @Override
    public void configure(Map<String, ?> configs) {
      gate = GATES.get(String.valueOf(configs.get(ConsumerConfig.GROUP_ID_CONFIG)));
    }

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
      return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
      if (gate == null
          || !Thread.currentThread().getName().equals("sluice-committer")
          || !gate.armed.compareAndSet(true, false)) {
        return;
      }
      gate.entered.countDown();
      try {
        if (!gate.release.await(30, TimeUnit.SECONDS)) {
          throw new AssertionError("the commit gate was never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {}
  }

  @Test
  void nextBatchIsPlannedWhileTheGroupCommitOfThePreviousOneWaits(EmbeddedKafka kafka)
      throws Exception {
    String topic = TestSupport.topic("slow-commit");
    kafka.createTopic(topic, 1);
    kafka.produce(records(topic, 0, "a", 5));
    String group = "g-" + topic;
    Gate gate = new Gate();
    GATES.put(group, gate);
    Map<String, Object> params = TestSupport.params(kafka, group, false);
    params.put(
        ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, BlockingCommitInterceptor.class.getName());
    List<Long> submitted = new CopyOnWriteArrayList<>();
    TopicPartition tp = new TopicPartition(topic, 0);
    try (StreamHarness h = new StreamHarness(Duration.ofSeconds(1), false)) {
      h.ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchSubmitted(BatchInfo batch) {
              submitted.add(batch.batchId());
            }
          });
      h.record(
          KafkaDirect.createDirectStream(
              h.ctx, ConsumerStrategies.<String, String>subscribe(List.of(topic), params)));
      h.ctx.start();

      h.clock.advance(h.interval);
      assertThat(gate.entered.await(30, TimeUnit.SECONDS)).as("batch 0 commits").isTrue();
      kafka.produce(records(topic, 0, "b", 3));
      h.clock.advance(h.interval);

      // Planning batch 1 reads the partitions and their end offsets on the driver consumer, while
      // batch 0's
      // commit is still held inside commitSync.
      await().atMost(Duration.ofSeconds(30)).until(() -> submitted.contains(1L));
      assertThat(h.completed).hasValue(0);
      assertThat(gate.release.getCount()).isEqualTo(1);

      gate.release.countDown();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> h.completed.get() == 2 || h.failure.get() != null);
      assertThat(h.failure).hasNullValue();
      assertThat(h.seen)
          .extracting(StreamHarness.Seen::ranges)
          .containsExactly(
              List.of(new OffsetRange(topic, 0, 0, 5)), List.of(new OffsetRange(topic, 0, 5, 8)));
      assertThat(kafka.committedOffsets(group).get(tp).offset()).isEqualTo(8L);
      assertThat(kafka.committedOffsets(group).get(tp).metadata()).startsWith("sluice:v1:batch=1;");
    } finally {
      GATES.remove(group);
    }
  }
}
