package io.sluice.kafka.direct;

import static io.sluice.kafka.direct.internal.TestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.kafka.direct.internal.MemoryOffsetStore;
import io.sluice.kafka.direct.internal.TestSupport;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A window over a direct stream spanning a restart holds the batches committed before it: the
 * stream reads their offset ranges again, unless the group was reset in between.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class WindowAcrossRestartTest {

  private static final Duration I = Duration.ofSeconds(1);
  private static final Instant T0 = Instant.ofEpochSecond(1_000);

  /** Runs batches at T0 + from+1 .. T0 + until seconds, producing batch k's records before it. */
  private static Map<Long, List<String>> run(
      EmbeddedKafka kafka,
      String topic,
      MemoryOffsetStore store,
      Path checkpoint,
      int from,
      int until) {
    ManualClock clock = new ManualClock(T0.plusSeconds(from));
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("window-restart")
            .batchInterval(I)
            .parallelism(2)
            .clock(clock)
            .checkpointDir(checkpoint)
            .build();
    Map<Long, List<String>> windows = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    var values =
        KafkaDirect.createDirectStream(
                ctx,
                ConsumerStrategies.<String, String>subscribe(
                    List.of(topic), TestSupport.params(kafka, "g-" + topic, false)),
                DirectStreamOptions.builder().offsetStore(store).build())
            .map(ConsumerRecord::value);
    values
        .window(I.multipliedBy(4), I.multipliedBy(2))
        .foreachBatch(
            (rdd, batch) ->
                windows.put(
                    batch.time().getEpochSecond() - T0.getEpochSecond(),
                    new ArrayList<>(rdd.collect().stream().sorted().toList())));
    values.foreachBatch((rdd, batch) -> done.incrementAndGet());
    ctx.start();
    for (int k = from + 1; k <= until; k++) {
      kafka.produce(records(topic, 0, "t" + k, 2));
      int before = done.get();
      clock.advance(I);
      await().atMost(Duration.ofSeconds(30)).until(() -> done.get() > before);
    }
    ctx.stop(true);
    return windows;
  }

  private static List<String> batches(int... seconds) {
    List<String> out = new ArrayList<>();
    for (int s : seconds) {
      out.add("t" + s + "-0");
      out.add("t" + s + "-1");
    }
    return out.stream().sorted().toList();
  }

  @Test
  void aWindowSpanningARestartHoldsTheBatchesCommittedBeforeIt(
      EmbeddedKafka kafka, @TempDir Path checkpoint) {
    String topic = TestSupport.topic("window-restart");
    kafka.createTopic(topic, 1);
    MemoryOffsetStore store = new MemoryOffsetStore();

    Map<Long, List<String>> first = run(kafka, topic, store, checkpoint, 0, 5);
    Map<Long, List<String>> second = run(kafka, topic, store, checkpoint, 5, 10);

    assertThat(first).containsOnlyKeys(2L, 4L);
    assertThat(first.get(4L)).isEqualTo(batches(1, 2, 3, 4));
    assertThat(second).containsOnlyKeys(6L, 8L, 10L);
    assertThat(second.get(6L)).as("batches 3..5 before the restart").isEqualTo(batches(3, 4, 5, 6));
    assertThat(second.get(8L)).isEqualTo(batches(5, 6, 7, 8));
    assertThat(second.get(10L)).isEqualTo(batches(7, 8, 9, 10));
  }

  @Test
  void afterAResetTheWindowStartsWithoutTheBatchesBeforeIt(
      EmbeddedKafka kafka, @TempDir Path checkpoint) {
    String topic = TestSupport.topic("window-reset");
    kafka.createTopic(topic, 1);
    MemoryOffsetStore store = new MemoryOffsetStore();

    run(kafka, topic, store, checkpoint, 0, 5);
    // An operator rewinds the group to re-read batch 5's records: the committed batches no longer
    // lead to the position the stream continues from.
    store.reset("g-" + topic, Map.of(new TopicPartition(topic, 0), 8L));
    Map<Long, List<String>> second = run(kafka, topic, store, checkpoint, 5, 8);

    List<String> rereadAndSix = new ArrayList<>(batches(5, 6));
    assertThat(second.get(6L))
        .as("only the batch after the reset: no old batch, no record twice")
        .isEqualTo(rereadAndSix);
    assertThat(second.get(8L)).isEqualTo(batches(5, 6, 7, 8));
  }
}
