package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchFailedException;
import io.sluice.engine.ManualClock;
import io.sluice.engine.SluiceException;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@link OffsetStoreException} is a non-retriable {@link SluiceException}: the engine does not
 * retry a task that throws it, and on the commit path it fails the batch once.
 */
class OffsetStoreFailureInEngineTest {

  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final String GROUP = "numbers-group";
  private static final String TOPIC = "numbers";

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();
  private OffsetStore store;
  private StreamingContext ctx;

  @BeforeEach
  void storeAlreadyAtBatch100() {
    store = OffsetStores.file(dir);
    store.commit(
        new BatchCommit(
            GROUP, 100, Instant.EPOCH, List.of(new OffsetRange(TOPIC, 0, 0, 1_000_000))));
    ctx =
        StreamingContext.builder()
            .appName("store-failures")
            .batchInterval(INTERVAL)
            .parallelism(2)
            .maxTaskAttempts(4)
            .clock(clock)
            .build();
  }

  @AfterEach
  void close() {
    ctx.stop(false);
    store.close();
  }

  /** A stale commit: the store holds batch 100 for the group. */
  private void commitStale(long batchId) {
    store.commit(
        new BatchCommit(
            GROUP,
            batchId,
            Instant.EPOCH,
            List.of(new OffsetRange(TOPIC, 0, 1_000_000, 1_000_001))));
  }

  @Test
  void offsetStoreExceptionInATaskFailsItWithoutRetries() {
    assertThat(new OffsetStoreException("x")).isInstanceOf(SluiceException.class);
    assertThat(new OffsetStoreException("x").retriable()).isFalse();
    AtomicInteger attempts = new AtomicInteger();
    new NumbersInput(ctx, 1)
        .foreachBatch(
            "store-in-task",
            (rdd, batch) ->
                rdd.foreach(
                    n -> {
                      attempts.incrementAndGet();
                      commitStale(batch.id());
                    }));
    ctx.start();
    clock.advance(INTERVAL);

    assertThatThrownBy(() -> ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.batchId()).isZero();
              assertThat(e.outputOperation()).isEqualTo("store-in-task");
              assertThat(e.partition()).isZero();
              assertThat(e.getCause())
                  .isInstanceOf(StaleBatchException.class)
                  .hasMessageStartingWith("batch 0 refused for group 'numbers-group'");
            });
    assertThat(attempts).hasValue(1);
    assertThat(ctx.meterRegistry().get("sluice.task.retries").counter().count()).isZero();
  }

  @Test
  void anyOtherRuntimeExceptionInATaskIsRetried() {
    AtomicInteger attempts = new AtomicInteger();
    new NumbersInput(ctx, 1)
        .foreachBatch(
            "plain-failure",
            (rdd, batch) ->
                rdd.foreach(
                    n -> {
                      attempts.incrementAndGet();
                      throw new IllegalStateException("transient?");
                    }));
    ctx.start();
    clock.advance(INTERVAL);

    assertThatThrownBy(() -> ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOf(BatchFailedException.class)
        .hasRootCauseMessage("transient?");
    assertThat(attempts).hasValue(4);
    assertThat(ctx.meterRegistry().get("sluice.task.retries").counter().count()).isEqualTo(3.0);
  }

  @Test
  void offsetStoreExceptionOnTheCommitPathFailsTheBatchOnce() {
    NumbersInput input = new NumbersInput(ctx, 1);
    AtomicInteger outputs = new AtomicInteger();
    input.foreachBatch("count", (rdd, batch) -> outputs.addAndGet((int) rdd.count()));
    ctx.start();
    clock.advance(INTERVAL);

    assertThatThrownBy(() -> ctx.awaitTermination(Duration.ofSeconds(20)))
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            e -> {
              assertThat(e.batchId()).isZero();
              assertThat(e.outputOperation()).isEqualTo("commit of input 'numbers'");
              assertThat(e.partition()).isEqualTo(-1);
              assertThat(e.getCause()).isInstanceOf(StaleBatchException.class);
            });
    assertThat(input.commits).hasValue(1);
    assertThat(outputs).hasValue(3);
    assertThat(ctx.meterRegistry().get("sluice.task.retries").counter().count()).isZero();
    assertThat(store.lastBatchId(GROUP)).isEqualTo(OptionalLong.of(100));
    assertThat(store.committed(GROUP)).isEqualTo(Map.of(new TopicPartition(TOPIC, 0), 1_000_000L));
  }

  /** Three numbers per batch in {@code partitions} partitions; commits each batch to the store. */
  private final class NumbersInput extends InputDStream<Long, Long> {
    final AtomicInteger commits = new AtomicInteger();
    private final int partitions;

    NumbersInput(StreamingContext ctx, int partitions) {
      super(ctx, "numbers", Long.class);
      this.partitions = partitions;
    }

    @Override
    public Long plan(long batchId, Instant batchTime) {
      return batchId * 3;
    }

    @Override
    public RDD<Long> compute(long batchId, Instant batchTime, Long from) {
      return context().parallelize(LongStream.range(from, from + 3).boxed().toList(), partitions);
    }

    @Override
    public void commit(Batch batch, Long from) {
      commits.incrementAndGet();
      commitStale(batch.id());
    }
  }
}
