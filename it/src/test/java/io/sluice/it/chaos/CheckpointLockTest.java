package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.sinks.KafkaSink;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * One checkpoint directory, two contexts of the same application: the second {@code start()} is
 * refused at once, naming the directory, before it opens anything (its exactly-once KafkaSink has
 * the same transactional id as the first one's, so opening it would fence the running context). The
 * first context keeps running and its output stays exactly-once; once it stopped, the directory is
 * free again.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class CheckpointLockTest {

  static final int N = 400;
  static final int PARTITIONS = 4;
  static final String APP = "lock-app";
  static final String INPUT = "lock-input";
  static final String OUTPUT = "lock-output";

  @TempDir Path tmp;

  /**
   * A context of the application on {@code checkpoint}: the input through the exactly-once
   * KafkaSink.
   */
  private static StreamingContext context(
      EmbeddedKafka kafka, Path checkpoint, List<Throwable> failures, AtomicInteger completed) {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(APP)
            .batchInterval(Duration.ofMillis(100))
            .parallelism(2)
            .checkpointDir(checkpoint)
            .exactlyOnce(true)
            .build();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.incrementAndGet();
          }

          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failures.add(cause);
          }

          @Override
          public void onError(Throwable error) {
            failures.add(error);
          }
        });
    Map<String, Object> params = kafka.consumerConfig(APP);
    params.put("isolation.level", "read_committed");
    // 20 records per partition and batch: the input lasts several batches.
    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(List.of(INPUT), params),
            DirectStreamOptions.builder().name("numbers").maxRatePerPartition(200).build())
        .writeTo(
            KafkaSink.<ConsumerRecord<String, String>>builder()
                .producerConfig(Map.of("bootstrap.servers", kafka.bootstrapServers()))
                .keySerializer(new StringSerializer())
                .valueSerializer(new StringSerializer())
                .record(r -> new ProducerRecord<>(OUTPUT, r.partition(), r.key(), r.value()))
                .name("lock-out")
                .exactlyOnce()
                .build());
    return ctx;
  }

  private static long committedInput(EmbeddedKafka kafka) {
    return kafka.committedOffsets(APP).values().stream()
        .filter(om -> om != null)
        .mapToLong(OffsetAndMetadata::offset)
        .sum();
  }

  @Test
  void aSecondContextOnARunningContextsCheckpointIsRefusedAndTheFirstStaysExactlyOnce(
      EmbeddedKafka kafka) throws Exception {
    kafka.createTopic(INPUT, PARTITIONS);
    kafka.createTopic(OUTPUT, PARTITIONS);
    List<ProducerRecord<String, String>> input = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      input.add(
          new ProducerRecord<>(INPUT, i % PARTITIONS, Integer.toString(i), Integer.toString(i)));
    }
    kafka.produce(input);
    Path checkpoint = tmp.resolve("checkpoint");

    List<Throwable> firstFailures = new CopyOnWriteArrayList<>();
    AtomicInteger firstCompleted = new AtomicInteger();
    StreamingContext first = context(kafka, checkpoint, firstFailures, firstCompleted);
    List<Throwable> secondFailures = new CopyOnWriteArrayList<>();
    AtomicInteger secondCompleted = new AtomicInteger();
    StreamingContext second = context(kafka, checkpoint, secondFailures, secondCompleted);
    try {
      first.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> committedInput(kafka) > 0 || !firstFailures.isEmpty());
      assertThat(firstFailures).isEmpty();
      // The first context holds the directory while it runs, whether or not it has read all of the
      // input yet.
      assertThat(first.state()).isEqualTo(StreamingContext.State.ACTIVE);

      long t0 = System.nanoTime();
      assertThatThrownBy(second::start)
          .hasMessageContaining(checkpoint.toString())
          .hasMessageContaining("already used by a running context");
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .as("time to refuse")
          .isLessThan(Duration.ofSeconds(5));
      assertThat(first.state()).isEqualTo(StreamingContext.State.ACTIVE);

      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> committedInput(kafka) >= N || !firstFailures.isEmpty());
      assertThat(firstFailures).as("failures of the first context").isEmpty();
      assertThat(first.state()).isEqualTo(StreamingContext.State.ACTIVE);
      first.stop(true);
      first.awaitTermination();
      assertThat(committedInput(kafka)).isEqualTo(N);
      assertThat(kafka.consumeAll(OUTPUT, true))
          .extracting(ConsumerRecord::value)
          .as("the read_committed output")
          .hasSize(N)
          .containsExactlyInAnyOrderElementsOf(input.stream().map(ProducerRecord::value).toList());

      // The refused context left nothing behind: once the first stopped, it starts on the same
      // directory.
      second.start();
      int seen = secondCompleted.get();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> secondCompleted.get() > seen || !secondFailures.isEmpty());
      assertThat(secondFailures).as("failures of the second context").isEmpty();
      second.stop(true);
      assertThat(kafka.consumeAll(OUTPUT, true))
          .as("output after the second context ran")
          .hasSize(N);
    } finally {
      first.stop(false);
      second.stop(false);
    }
  }
}
