package io.sluice.engine.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.receiver.ReceiverStreamTest.QueueReceiver;
import io.sluice.engine.receiver.internal.ReceiverInputDStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Receivers with a write-ahead log: stored blocks survive a restart, uncommitted batches replay.
 */
class ReceiverWalTest {

  @TempDir Path checkpoint;

  private final Map<Long, List<String>> seen = new ConcurrentHashMap<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  private StreamingContext context(long startSecond) {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("wal")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .clock(new ManualClock(Instant.ofEpochSecond(startSecond)))
            .checkpointDir(checkpoint)
            .blockInterval(Duration.ofMillis(20))
            .receiverWriteAheadLog(true)
            .build();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failure.compareAndSet(null, cause);
          }
        });
    return ctx;
  }

  private ReceiverInputDStream<String> stream(StreamingContext ctx, QueueReceiver r, long failAt) {
    DStream<String> lines = ctx.receiverStream(r);
    lines.foreachBatch(
        (rdd, batch) -> {
          List<String> values = new ArrayList<>(rdd.collect());
          if (batch.id() == failAt) {
            throw new IllegalStateException("output down (test)");
          }
          seen.put(batch.id(), values);
        });
    return (ReceiverInputDStream<String>) lines;
  }

  @Test
  void anUncommittedBatchIsReplayedWithTheSameBlocksReadBackFromTheLog() {
    StreamingContext first = context(0);
    QueueReceiver r1 = new QueueReceiver();
    ReceiverInputDStream<String> in1 = stream(first, r1, 0);
    first.start();
    for (int i = 0; i < 5; i++) {
      r1.input.add("a" + i);
    }
    r1.input.add(List.of("b0", "b1"));
    await().atMost(Duration.ofSeconds(10)).until(() -> in1.unallocatedRecords() == 7);
    ((ManualClock) first.clock()).advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> failure.get() != null);
    first.stop(false);
    assertThat(seen).isEmpty();

    StreamingContext second = context(10);
    QueueReceiver r2 = new QueueReceiver();
    stream(second, r2, -1);
    second.start(); // replays batch 0 by itself
    await().atMost(Duration.ofSeconds(10)).until(() -> seen.containsKey(0L));
    second.stop(false);

    assertThat(seen.get(0L)).containsExactlyInAnyOrder("a0", "a1", "a2", "a3", "a4", "b0", "b1");
  }

  @Test
  void blocksStoredButNotYetInABatchGoToTheFirstBatchAfterARestart() throws Exception {
    StreamingContext first = context(0);
    QueueReceiver r1 = new QueueReceiver();
    ReceiverInputDStream<String> in1 = stream(first, r1, -1);
    first.start();
    r1.input.add(List.of("x0", "x1", "x2"));
    await().atMost(Duration.ofSeconds(10)).until(() -> in1.unallocatedRecords() == 3);
    first.stop(false); // as good as a crash for memory: only the log holds them

    StreamingContext second = context(10);
    QueueReceiver r2 = new QueueReceiver();
    ReceiverInputDStream<String> in2 = stream(second, r2, -1);
    second.start();
    assertThat(in2.unallocatedRecords()).isEqualTo(3);
    ((ManualClock) second.clock()).advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
    second.stop(true);

    assertThat(seen.values().iterator().next()).containsExactly("x0", "x1", "x2");
    try (Stream<Path> files = Files.walk(checkpoint.resolve("receivers"))) {
      assertThat(files.filter(p -> p.toString().endsWith(".wal"))).isNotEmpty();
    }
  }

  @Test
  void aGracefulStopStoresAndProcessesEveryRecordTheReceiverStored() {
    StreamingContext ctx = context(0);
    QueueReceiver r = new QueueReceiver();
    stream(ctx, r, -1);
    ctx.start();
    int n = 3_000;
    for (int i = 0; i < n; i++) {
      r.input.add("r" + i); // stored one by one, cut into blocks every 20 ms
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> r.input.isEmpty());
    ((ManualClock) ctx.clock()).advance(Duration.ofSeconds(1));
    ctx.stop(true); // the receiver stops first; what it stored goes into the last batches

    List<String> all = new ArrayList<>();
    seen.values().forEach(all::addAll);
    assertThat(all).hasSize(n).doesNotHaveDuplicates();
    assertThat(failure.get()).isNull();
  }

  @Test
  void exactlyOnceRequiresTheLogAndTheLogRequiresACheckpoint() {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("no-wal")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .checkpointDir(checkpoint)
            .exactlyOnce(true)
            .build();
    ctx.receiverStream(new QueueReceiver()).foreachRDD(rdd -> rdd.count());
    assertThatThrownBy(ctx::start)
        .hasMessageContaining("receiver stream 'receiver-0' keeps its blocks in memory only");
    assertThatThrownBy(
            () ->
                StreamingContext.builder()
                    .appName("x")
                    .batchInterval(Duration.ofSeconds(1))
                    .receiverWriteAheadLog(true)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs a checkpointDir");
  }

  @Test
  void exactlyOnceRefusesATransactionalOutputThatCannotCommitTheReceiversProgress() {
    BatchOutput<String> transactional =
        new BatchOutput<>() {
          @Override
          public void write(RDD<String> rdd, Batch batch) {}

          @Override
          public DeliveryGuarantee guarantee() {
            return DeliveryGuarantee.EXACTLY_ONCE;
          }

          @Override
          public Optional<CommitTarget> offsetCommitTarget() {
            return Optional.of(new CommitTarget("groups", "a Kafka cluster's groups"));
          }

          @Override
          public String describe() {
            return "OffsetsOnlySink";
          }
        };
    StreamingContext eos =
        StreamingContext.builder()
            .appName("wal-eos")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .checkpointDir(checkpoint.resolve("eos"))
            .receiverWriteAheadLog(true)
            .exactlyOnce(true)
            .build();
    eos.receiverStream(new QueueReceiver()).writeTo(transactional);
    assertThatThrownBy(eos::start)
        .hasMessageContaining("input 'receiver-0' has no offsets")
        .hasMessageContaining("(OffsetsOnlySink) cannot commit its progress in its transaction");
  }
}
