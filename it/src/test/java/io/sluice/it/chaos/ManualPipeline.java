package io.sluice.it.chaos;

import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.OffsetRange;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * An in-process context on a {@link ManualClock}, with a checkpoint directory, that records the
 * ranges and values of every batch of one stream: each {@link #runBatch()} runs exactly one batch.
 * Each instance's clock starts on a whole second, an hour later than the previous instance's, so
 * that a restart on the same checkpoint has its first batch one interval after its start, past the
 * batches an earlier instance planned. The test thread owns it.
 */
final class ManualPipeline implements AutoCloseable {

  static final Duration INTERVAL = Duration.ofSeconds(1);

  /** One batch as the recording output saw it. */
  record Seen(long batchId, List<OffsetRange> ranges, List<String> values) {}

  /** Instances made in this JVM: each starts its clock an hour after the previous one. */
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  final ManualClock clock =
      new ManualClock(
          Instant.ofEpochSecond(Instant.now().getEpochSecond())
              .plus(Duration.ofHours(INSTANCES.incrementAndGet())));
  final StreamingContext ctx;
  final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final AtomicInteger completed = new AtomicInteger();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  ManualPipeline(String appName, Path checkpointDir) {
    ctx =
        StreamingContext.builder()
            .appName(appName)
            .batchInterval(INTERVAL)
            .parallelism(2)
            .clock(clock)
            .backpressure(false)
            .checkpointDir(checkpointDir)
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

          @Override
          public void onError(Throwable error) {
            failure.compareAndSet(null, error);
          }
        });
  }

  /** Records every batch of {@code stream} (an output operation of its own). */
  void record(DStream<ConsumerRecord<String, String>> stream) {
    stream.foreachBatch(
        (rdd, batch) -> {
          List<OffsetRange> ranges = ((HasOffsetRanges) rdd).offsetRanges();
          List<String> values = new ArrayList<>();
          rdd.collect().forEach(r -> values.add(r.value()));
          seen.add(new Seen(batch.id(), ranges, values));
        });
  }

  /**
   * Advances the clock one interval and waits for that batch to complete; fails on a batch failure.
   */
  Seen runBatch() {
    int before = completed.get();
    clock.advance(INTERVAL);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> completed.get() > before || failure.get() != null);
    if (failure.get() != null) {
      throw new AssertionError("batch failed", failure.get());
    }
    return seen.get(seen.size() - 1);
  }

  /** Advances the clock one interval and waits for a batch to fail; returns the failure. */
  Throwable failBatch() {
    clock.advance(INTERVAL);
    await().atMost(Duration.ofSeconds(60)).until(() -> failure.get() != null);
    return failure.get();
  }

  @Override
  public void close() {
    ctx.stop(false);
  }
}
