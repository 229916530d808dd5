package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.dstream.DStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LifecycleTest {

  private static StreamingContext.Builder valid() {
    return StreamingContext.builder().appName("app").batchInterval(Duration.ofSeconds(1));
  }

  @Test
  void builderRefusesInvalidSettingsNamingSettingAndValue() {
    assertThatThrownBy(
            () -> StreamingContext.builder().batchInterval(Duration.ofSeconds(1)).build())
        .hasMessage("appName must be set and not blank, was null");
    assertThatThrownBy(() -> valid().appName(" ").build())
        .hasMessage("appName must be set and not blank, was ' '");
    assertThatThrownBy(() -> StreamingContext.builder().appName("a").build())
        .hasMessage("batchInterval must be set, was null");
    assertThatThrownBy(() -> valid().batchInterval(Duration.ZERO).build())
        .hasMessage("batchInterval must be > 0, was PT0S");
    assertThatThrownBy(() -> valid().batchInterval(Duration.ofNanos(1500)).build())
        .hasMessageContaining("batchInterval must be whole milliseconds");
    assertThatThrownBy(() -> valid().parallelism(0).build())
        .hasMessage("parallelism must be > 0, was 0");
    assertThatThrownBy(() -> valid().concurrentJobs(-1).build())
        .hasMessage("concurrentJobs must be > 0, was -1");
    assertThatThrownBy(() -> valid().maxTaskAttempts(0).build())
        .hasMessage("maxTaskAttempts must be > 0, was 0");
    assertThatThrownBy(() -> valid().clock(null).build())
        .hasMessage("clock must not be null, was null");
    StreamingContext ctx = valid().build();
    assertThat(ctx.parallelism()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(ctx.concurrentJobs()).isEqualTo(1);
    assertThat(ctx.maxTaskAttempts()).isEqualTo(4);
    assertThat(ctx.clock()).isSameAs(SystemClock.INSTANCE);
    assertThat(ctx.checkpointDir()).isEmpty();
    ctx.stop(false);
  }

  @Test
  void lifecycleTransitionsAndStoppedContextIsAClearError() throws Exception {
    Harness h = new Harness(1);
    StreamingContext ctx = h.ctx;
    DStream<Integer> s = ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>());
    s.print();
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.INITIALIZED);
    assertThat(ctx.awaitTermination(Duration.ofMillis(1))).isFalse();
    ctx.start();
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.ACTIVE);
    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already started");
    assertThatThrownBy(() -> s.map(x -> x))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("before start()");
    assertThat(ctx.awaitTermination(Duration.ofMillis(10))).isFalse();
    ctx.stop(true);
    ctx.stop(false);
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
    assertThat(ctx.awaitTermination(Duration.ofSeconds(5))).isTrue();
    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is stopped")
        .hasMessageContaining("new StreamingContext");
    assertThatThrownBy(() -> ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is stopped");
    assertThatThrownBy(() -> ctx.addStreamingListener(new StreamingListener() {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is stopped");
    assertThatThrownBy(() -> ctx.parallelize(List.of(1), 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is stopped");
  }

  @Test
  void operatorsGetStableNamesFromKindAndCreationOrder() {
    StreamingContext ctx = valid().clock(new ManualClock()).build();
    try {
      DStream<Integer> in = ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>());
      DStream<Integer> mapped = in.map(x -> x);
      DStream<Integer> filtered = mapped.filter(x -> x > 0);
      assertThat(in.name()).isEqualTo("queueStream-0");
      assertThat(mapped.name()).isEqualTo("map-1");
      assertThat(filtered.name()).isEqualTo("filter-2");
      assertThat(
              filtered.mapToPair(x -> KV.of(x, x)).reduceByKey(Integer::sum).name("totals").name())
          .isEqualTo("totals");
      mapped.name("totals");
      filtered.print();
      assertThatThrownBy(ctx::start)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("two operators are named 'totals'");
    } finally {
      ctx.stop(false);
    }
  }

  @Test
  void startWithoutOutputOperationsIsRefused() {
    StreamingContext ctx = valid().clock(new ManualClock()).build();
    ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>()).map(x -> x);
    assertThatThrownBy(ctx::start)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no output operations");
    ctx.stop(false);
  }

  @Test
  void gracefulStopFinishesQueuedBatchesAndSchedulingDelayGrows() throws Exception {
    Harness h = new Harness(2);
    Queue<List<Integer>> q =
        new ConcurrentLinkedQueue<>(List.of(List.of(1), List.of(2, 3), List.of(4, 5, 6)));
    CountDownLatch firstBatchRunning = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Map<Long, List<Integer>> out = new ConcurrentHashMap<>();
    h.ctx
        .<Integer>queueCollectionStream(q)
        .foreachBatch(
            (rdd, batch) -> {
              if (batch.id() == 0) {
                firstBatchRunning.countDown();
                assertThat(release.await(20, TimeUnit.SECONDS)).isTrue();
              }
              out.put(batch.id(), rdd.collect());
            });
    h.ctx.start();
    h.clock.advance(Harness.INTERVAL);
    assertThat(firstBatchRunning.await(20, TimeUnit.SECONDS)).isTrue();
    h.clock.advance(Harness.INTERVAL.multipliedBy(2));

    Thread stopper = new Thread(() -> h.ctx.stop(true));
    stopper.start();
    release.countDown();
    stopper.join(20_000);

    assertThat(stopper.isAlive()).isFalse();
    assertThat(h.ctx.awaitTermination(Duration.ofSeconds(1))).isTrue();
    assertThat(out).isEqualTo(Map.of(0L, List.of(1), 1L, List.of(2, 3), 2L, List.of(4, 5, 6)));
    List<BatchInfo> infos = h.completedInfos();
    assertThat(infos).extracting(BatchInfo::batchId).containsExactly(0L, 1L, 2L);
    assertThat(infos)
        .extracting(i -> i.schedulingDelay().orElseThrow())
        .containsExactly(Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO);
    assertThat(infos.get(0).processingTime()).contains(Duration.ofSeconds(2));
  }

  @Test
  void concurrentJobsRunOutputOperationsOfABatchAtTheSameTime() {
    java.util.concurrent.CyclicBarrier bothRunning = new java.util.concurrent.CyclicBarrier(2);
    List<String> jobThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Harness h =
        new Harness(
            StreamingContext.builder()
                .appName("concurrent")
                .batchInterval(Harness.INTERVAL)
                .parallelism(2)
                .concurrentJobs(2))) {
      DStream<Integer> s =
          h.ctx.queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1, 2))));
      for (int i = 0; i < 2; i++) {
        s.foreachBatch(
            (rdd, batch) -> {
              jobThreads.add(Thread.currentThread().getName());
              bothRunning.await(20, TimeUnit.SECONDS);
              rdd.count();
            });
      }
      h.runBatches(1);
    }
    assertThat(jobThreads).containsExactlyInAnyOrder("sluice-job-0", "sluice-job-1");
  }

  @Test
  void printShowsHeaderUpToNElementsAndEllipsis() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (Harness h = new Harness(2)) {
      Queue<List<String>> q =
          new ConcurrentLinkedQueue<>(List.of(List.of("a", "b", "c"), List.of("d")));
      h.ctx.queueCollectionStream(q).print(2, ps);
      h.runBatches(2);
    }
    String rule = "-------------------------------------------\n";
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            rule
                + "Time: 1000 ms (batch 0)\n"
                + rule
                + "a\nb\n...\n\n"
                + rule
                + "Time: 2000 ms (batch 1)\n"
                + rule
                + "d\n\n");
  }

  @Test
  void saveAsTextFilesWritesOneCompleteDirectoryPerBatch(@TempDir Path dir) throws Exception {
    try (Harness h = new Harness(3)) {
      Queue<List<Integer>> q =
          new ConcurrentLinkedQueue<>(List.of(List.of(1, 2, 3, 4, 5), List.of()));
      h.ctx.queueCollectionStream(q).saveAsTextFiles(dir.resolve("out").toString(), "txt");
      h.runBatches(2);
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("out-1000.txt", "out-2000.txt");
    }
    List<String> lines;
    try (Stream<Path> parts = Files.list(dir.resolve("out-1000.txt"))) {
      lines =
          parts
              .sorted()
              .flatMap(
                  p -> {
                    try {
                      return Files.readAllLines(p).stream();
                    } catch (java.io.IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  })
              .toList();
    }
    assertThat(lines).containsExactly("1", "2", "3", "4", "5");
    try (Stream<Path> parts = Files.list(dir.resolve("out-2000.txt"))) {
      assertThat(parts).isEmpty();
    }
  }

  @Test
  void threadsAreNamed() {
    Map<String, String> threads = new ConcurrentHashMap<>();
    try (Harness h = new Harness(2)) {
      h.ctx
          .queueCollectionStream(new ConcurrentLinkedQueue<>(List.of(List.of(1, 2))))
          .transform(
              (rdd, t) -> {
                threads.put("transform", Thread.currentThread().getName());
                return rdd;
              })
          .map(
              x -> {
                threads.put("task", Thread.currentThread().getName());
                threads.put(
                    "taskBatch",
                    String.valueOf(
                        io.sluice.engine.rdd.TaskContext.current().orElseThrow().batchId()));
                return x;
              })
          .foreachBatch(
              (rdd, batch) -> {
                threads.put("job", Thread.currentThread().getName());
                rdd.count();
              });
      h.runBatches(1);
    }
    assertThat(threads.get("transform")).isEqualTo("sluice-job-generator");
    assertThat(threads.get("job")).isEqualTo("sluice-job-0");
    assertThat(threads.get("task")).matches("sluice-task-[01]");
    assertThat(threads.get("taskBatch")).isEqualTo("0");
  }

  @Test
  void nonGracefulStopReturnsWhileAJobRunsAndAnotherIsQueued() {
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("abort-queued")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .clock(clock)
            .build();
    Queue<List<Integer>> q = new ConcurrentLinkedQueue<>(List.of(List.of(1, 2, 3)));
    DStream<Integer> in = ctx.queueCollectionStream(q);
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    in.foreachBatch(
        (rdd, batch) -> {
          running.countDown();
          never.await(); // interrupted by the stop
        });
    in.foreachBatch((rdd, batch) -> rdd.count()); // queued behind it: concurrentJobs = 1
    ctx.start();
    clock.advance(Duration.ofSeconds(1));

    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          running.await();
          ctx.stop(false);
        });
    assertThat(ctx.state()).isEqualTo(StreamingContext.State.STOPPED);
  }
}
