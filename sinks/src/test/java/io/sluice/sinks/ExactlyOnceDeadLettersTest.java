package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.TerminalException;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters of a direct stream whose offsets the exactly-once Kafka sink commits go into the
 * batch's transaction: visible to {@code read_committed} readers exactly when the batch commits,
 * one per bad record, never for a batch that failed.
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class ExactlyOnceDeadLettersTest {

  private static final Duration INTERVAL = Duration.ofSeconds(1);

  /** Offsets 3 and 7 of both partitions hold values IntegerDeserializer cannot read. */
  private static final List<Integer> POISONED = List.of(3, 7);

  @Test
  void aFailedAndReplayedBatchWritesEachDeadLetterExactlyOnceInsideItsTransaction(
      EmbeddedKafka kafka, @TempDir Path checkpoint) {
    String app = "eos-dlq-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    String dlq = "dlq-" + app;
    String group = "group-" + app;
    kafka.createTopic(in, 2);
    kafka.createTopic(out, 1);
    kafka.createTopic(dlq, 1);
    List<ProducerRecord<byte[], byte[]>> input = new ArrayList<>();
    for (int p = 0; p < 2; p++) {
      for (int o = 0; o < 10; o++) {
        byte[] value =
            POISONED.contains(o)
                ? ("bad-" + p + "-" + o).getBytes(StandardCharsets.UTF_8)
                : ByteBuffer.allocate(4).putInt(p * 100 + o).array();
        input.add(new ProducerRecord<>(in, p, null, value));
      }
    }
    kafka.produceBytes(input);

    // Run 1: a record after a poison pill fails the batch for good, after the tasks decoded the
    // pills; the batch's transaction is aborted and nothing of it may be visible, letters included.
    AtomicBoolean failBatch = new AtomicBoolean(true);
    AtomicBoolean failTaskOnce = new AtomicBoolean(false);
    Run first = new Run(kafka, app, in, out, dlq, group, checkpoint, 1, failBatch, failTaskOnce);
    try (first) {
      first.ctx.start();
      first.clock.advance(INTERVAL);
      await().atMost(Duration.ofSeconds(30)).until(() -> first.failure.get() != null);
    }
    assertThat(kafka.consumeAll(dlq, false))
        .as("letters of the failed batch, even uncommitted")
        .isEmpty();
    // The other partition's task may have sent its records into the aborted transaction before the
    // failure (a read_uncommitted reader sees those); none of them is ever committed.
    assertThat(kafka.consumeAll(out, true)).isEmpty();

    // Run 2: batch 0 is replayed; one task fails once after decoding its pills and is retried, and
    // another output of the batch decodes every pill before the sink does: still one letter each.
    failBatch.set(false);
    failTaskOnce.set(true);
    Run second = new Run(kafka, app, in, out, dlq, group, checkpoint, 2, failBatch, failTaskOnce);
    try (second) {
      second.ctx.start();
      second.clock.advance(INTERVAL);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> second.completed.get() >= 1 || second.failure.get() != null);
      assertThat(second.failure.get()).isNull();
    }
    assertThat(failTaskOnce).as("the retried task failed once").isFalse();

    List<String> expectedLetters = new ArrayList<>();
    List<String> expectedValues = new ArrayList<>();
    for (int p = 0; p < 2; p++) {
      for (int o = 0; o < 10; o++) {
        if (POISONED.contains(o)) {
          expectedLetters.add(in + "-" + p + "@" + o + " batch 0: bad-" + p + "-" + o);
        } else {
          expectedValues.add(Integer.toString(p * 100 + o));
        }
      }
    }
    assertThat(kafka.consumeAll(dlq, true))
        .extracting(ExactlyOnceDeadLettersTest::describeLetter)
        .containsExactlyInAnyOrderElementsOf(expectedLetters);
    assertThat(kafka.consumeAll(dlq, false))
        .as("the topic holds no second copy, committed or not")
        .hasSize(expectedLetters.size());
    assertThat(kafka.consumeAll(out, true))
        .extracting(ConsumerRecord::value)
        .containsExactlyInAnyOrderElementsOf(expectedValues);
    assertThat(kafka.committedOffsets(group))
        .hasSize(2)
        .allSatisfy((tp, om) -> assertThat(om.offset()).isEqualTo(10));
  }

  @Test
  void lettersOfABatchWhereTheWindowedSinkHasNoJobAreSentByTheStreamOnce(EmbeddedKafka kafka) {
    String app = "eos-dlq-window-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    String dlq = "dlq-" + app;
    kafka.createTopic(in, 1);
    kafka.createTopic(out, 1);
    kafka.createTopic(dlq, 1);
    List<ProducerRecord<byte[], byte[]>> input = new ArrayList<>();
    for (int o = 0; o < 6; o++) {
      byte[] value =
          o % 3 == 1
              ? ("bad-" + o).getBytes(StandardCharsets.UTF_8)
              : ByteBuffer.allocate(4).putInt(o).array();
      input.add(new ProducerRecord<>(in, 0, null, value));
    }
    kafka.produceBytes(input);
    // Batch times 1001 s and 1002 s; the window of 2 s sliding by 2 s fires at even seconds only.
    ManualClock clock = new ManualClock(Instant.ofEpochSecond(1_000));
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(INTERVAL)
            .parallelism(2)
            .clock(clock)
            .build();
    AtomicInteger completed = new AtomicInteger();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.incrementAndGet();
          }
        });
    Map<String, Object> params = new HashMap<>();
    params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    params.put(ConsumerConfig.GROUP_ID_CONFIG, "group-" + app);
    params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, IntegerDeserializer.class);
    try {
      KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, Integer>subscribe(List.of(in), params),
              DirectStreamOptions.builder()
                  .startingOffsets(StartingOffsets.earliest())
                  .onBadRecord(ErrorPolicy.deadLetter(dlq))
                  .build())
          .map(ConsumerRecord::value)
          .window(INTERVAL.multipliedBy(2), INTERVAL.multipliedBy(2))
          .writeTo(
              KafkaSink.<Integer>builder()
                  .producerConfig(
                      Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
                  .keySerializer(new StringSerializer())
                  .valueSerializer(new StringSerializer())
                  .record(v -> new ProducerRecord<>(out, Integer.toString(v)))
                  .exactlyOnce()
                  .build());
      ctx.start();
      for (int b = 1; b <= 2; b++) {
        int before = completed.get();
        clock.advance(INTERVAL);
        await().atMost(Duration.ofSeconds(30)).until(() -> completed.get() > before);
      }
    } finally {
      ctx.stop(false);
    }
    // Batch 0 (1001 s) holds every record; the sink has no job in it, the window at 1002 s reads
    // it again: its letters are sent once, by the stream, before its offsets are committed.
    assertThat(kafka.consumeAll(dlq, true))
        .extracting(ExactlyOnceDeadLettersTest::describeLetter)
        .containsExactlyInAnyOrder(in + "-0@1 batch 0: bad-1", in + "-0@4 batch 0: bad-4");
    assertThat(kafka.consumeAll(out, true))
        .extracting(ConsumerRecord::value)
        .containsExactlyInAnyOrder("0", "2", "3", "5");
  }

  private static String describeLetter(ConsumerRecord<String, String> r) {
    return header(r, "sluice.dlq.topic")
        + "-"
        + header(r, "sluice.dlq.partition")
        + "@"
        + header(r, "sluice.dlq.offset")
        + " batch "
        + header(r, "sluice.dlq.batch")
        + ": "
        + r.value();
  }

  private static String header(ConsumerRecord<?, ?> r, String key) {
    var h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** One run of the pipeline: direct stream with a dead-letter topic -> exactly-once KafkaSink. */
  private static final class Run implements AutoCloseable {
    final ManualClock clock;
    final StreamingContext ctx;
    final AtomicInteger completed = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Run(
        EmbeddedKafka kafka,
        String app,
        String in,
        String out,
        String dlq,
        String group,
        Path checkpoint,
        int run,
        AtomicBoolean failBatch,
        AtomicBoolean failTaskOnce) {
      clock = new ManualClock(Instant.ofEpochSecond(1_000L * run));
      ctx =
          StreamingContext.builder()
              .appName(app)
              .batchInterval(INTERVAL)
              .parallelism(2)
              .clock(clock)
              .checkpointDir(checkpoint)
              .build();
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
      Map<String, Object> params = new HashMap<>();
      params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      params.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
      params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, IntegerDeserializer.class);
      var values =
          KafkaDirect.createDirectStream(
                  ctx,
                  ConsumerStrategies.<String, Integer>subscribe(List.of(in), params),
                  DirectStreamOptions.builder()
                      .startingOffsets(StartingOffsets.earliest())
                      .onBadRecord(ErrorPolicy.deadLetter(dlq))
                      .build())
              .map(ConsumerRecord::value);
      // Another output of the same batch, registered first: it decodes every pill before the sink.
      values.foreachBatch((rdd, batch) -> rdd.count());
      values.writeTo(
          KafkaSink.<Integer>builder()
              .producerConfig(
                  Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
              .keySerializer(new StringSerializer())
              .valueSerializer(new StringSerializer())
              .record(
                  v -> {
                    if (v == 5 && failBatch.get()) {
                      throw new TerminalException("output refuses batch 0 (test)");
                    }
                    if (v == 105 && failTaskOnce.getAndSet(false)) {
                      throw new IllegalStateException("task fails once (test)");
                    }
                    return new ProducerRecord<>(out, Integer.toString(v));
                  })
              .exactlyOnce()
              .build());
    }

    @Override
    public void close() {
      ctx.stop(false);
    }
  }
}
