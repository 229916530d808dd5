package io.sluice.kafka.direct;

import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.OffsetRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** A context on a {@link ManualClock} that records every batch's ranges and values. */
final class StreamHarness implements AutoCloseable {

  /** One completed batch as the output saw it. */
  record Seen(
      long batchId, List<OffsetRange> ranges, List<ConsumerRecord<String, String>> records) {
    long count(String topic, int partition) {
      return records.stream()
          .filter(r -> r.topic().equals(topic) && r.partition() == partition)
          .count();
    }

    List<String> values() {
      return records.stream().map(ConsumerRecord::value).toList();
    }
  }

  final Duration interval;
  final ManualClock clock;
  final StreamingContext ctx;
  final AtomicInteger completed = new AtomicInteger();
  final AtomicReference<Throwable> failure = new AtomicReference<>();
  final List<Seen> seen = new CopyOnWriteArrayList<>();

  StreamHarness(Duration interval, boolean backpressure) {
    this(interval, backpressure, null, new ManualClock());
  }

  /**
   * A harness whose context keeps its batch log in {@code checkpointDir} (null: none), on {@code
   * clock}; a restarted run needs a clock past the previous run's batch times.
   */
  StreamHarness(
      Duration interval,
      boolean backpressure,
      java.nio.file.Path checkpointDir,
      ManualClock clock) {
    this.interval = interval;
    this.clock = clock;
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("kafka-direct-test")
            .batchInterval(interval)
            .parallelism(2)
            .clock(clock)
            .backpressure(backpressure);
    this.ctx = (checkpointDir == null ? b : b.checkpointDir(checkpointDir)).build();
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

          @Override
          public void onError(Throwable error) {
            failure.compareAndSet(null, error);
          }
        });
  }

  /** Records every batch of {@code stream}, checking each batch RDD is a KafkaRDD. */
  void record(DStream<ConsumerRecord<String, String>> stream) {
    stream.foreachBatch(
        (rdd, batch) -> {
          List<OffsetRange> ranges = ((HasOffsetRanges) rdd).offsetRanges();
          if (!(rdd instanceof KafkaRDD<?, ?>)) {
            throw new AssertionError("batch RDD is not a KafkaRDD: " + rdd);
          }
          seen.add(new Seen(batch.id(), ranges, new ArrayList<>(rdd.collect())));
        });
  }

  /**
   * Advances the clock one interval and waits for that batch to complete; rethrows a batch failure.
   */
  Seen runBatch() {
    int before = completed.get();
    clock.advance(interval);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> completed.get() > before || failure.get() != null);
    if (failure.get() != null) {
      throw new AssertionError("batch failed", failure.get());
    }
    return seen.get(seen.size() - 1);
  }

  /** Advances the clock one interval and waits for the batch to fail. */
  Throwable failBatch() {
    clock.advance(interval);
    await().atMost(Duration.ofSeconds(30)).until(() -> failure.get() != null);
    return failure.get();
  }

  @Override
  public void close() {
    ctx.stop(false);
  }
}
