package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SystemClockTest {

  @Test
  void wallClockDrivesConsecutiveBatchesOnTheIntervalGrid() throws Exception {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("wall")
            .batchInterval(Duration.ofMillis(20))
            .parallelism(2)
            .build();
    List<BatchInfo> done = new CopyOnWriteArrayList<>();
    CountDownLatch tenBatches = new CountDownLatch(10);
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            done.add(batch);
            tenBatches.countDown();
          }
        });
    ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>())
        .foreachBatch((rdd, b) -> rdd.count());
    ctx.start();
    try {
      assertThat(tenBatches.await(20, TimeUnit.SECONDS)).isTrue();
    } finally {
      ctx.stop(false);
    }
    assertThat(ctx.awaitTermination(Duration.ofSeconds(5))).isTrue();
    List<BatchInfo> first = done.subList(0, 10);
    for (int i = 0; i < first.size(); i++) {
      assertThat(first.get(i).batchId()).isEqualTo(i);
      assertThat(first.get(i).batchTime().toEpochMilli() % 20).isZero();
      if (i > 0) {
        assertThat(Duration.between(first.get(i - 1).batchTime(), first.get(i).batchTime()))
            .isEqualTo(Duration.ofMillis(20));
      }
    }
  }
}
