package io.sluice.bench;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.Clock;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.SystemClock;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The engine's own costs, without Kafka: per-batch overhead of empty batches, the stability of a
 * short batch interval on the system clock, and stateless map/filter throughput over an in-memory
 * source.
 *
 * <ul>
 *   <li>{@code empty}: a {@link ManualClock} advanced by one interval as soon as a batch completes,
 *       so the figure is the full cycle of one batch (plan, instantiate, queue, one job of {@code
 *       --slots} empty tasks, commit, listener) with nothing overlapped.
 *   <li>{@code empty-pipelined}: the manual clock is set {@code --batches} intervals ahead at once,
 *       so planning overlaps running and the figure is the scheduler's sustained cost per empty
 *       batch.
 *   <li>{@code interval}: the {@link SystemClock} at {@code --interval-ms}, reporting the
 *       scheduling delay (batch time to start of processing) and whether it grows.
 *   <li>{@code throughput}: {@code map} then {@code filter} then {@code count} over pre-built
 *       batches of boxed longs on {@code --slots} slots, against the same work on {@code --slots}
 *       plain threads.
 * </ul>
 *
 * <p>Each figure is the median of {@code --passes} passes after {@code --warmup} passes in the same
 * JVM. Run with {@code --help} for the options. Nothing here asserts a time: the figures are
 * printed.
 */
@Command(
    name = "EngineBench",
    mixinStandardHelpOptions = true,
    description =
        "Per-batch overhead, batch-interval stability and map/filter throughput of the engine.")
public final class EngineBench implements Callable<Integer> {

  /** The measurements this bench can run. */
  enum Mode {
    EMPTY,
    EMPTY_PIPELINED,
    INTERVAL,
    THROUGHPUT
  }

  private static final Duration MANUAL_INTERVAL = Duration.ofMillis(100);

  @Option(
      names = "--modes",
      split = ",",
      description = "Measurements to run, from ${COMPLETION-CANDIDATES}" + " (default: all).",
      converter = ModeConverter.class)
  Set<Mode> modes = EnumSet.allOf(Mode.class);

  @Option(names = "--slots", description = "Task slots (parallelism), default ${DEFAULT-VALUE}.")
  int slots = 4;

  @Option(
      names = "--warmup",
      description = "Warm-up passes per measurement, default ${DEFAULT-VALUE}.")
  int warmup = 3;

  @Option(
      names = "--passes",
      description = "Measured passes per measurement, default ${DEFAULT-VALUE}.")
  int passes = 5;

  @Option(names = "--batches", description = "Empty batches per pass, default ${DEFAULT-VALUE}.")
  int batches = 10_000;

  @Option(
      names = "--interval-ms",
      description = "Batch interval of the system-clock run, default ${DEFAULT-VALUE}.")
  int intervalMs = 20;

  @Option(
      names = "--interval-seconds",
      description = "Length of one system-clock pass, default ${DEFAULT-VALUE}.")
  double intervalSeconds = 5;

  @Option(
      names = "--interval-records",
      description =
          "Records per batch in the system-clock run (0 = empty batches), default ${DEFAULT-VALUE}.")
  int intervalRecords = 0;

  @Option(
      names = "--records-per-batch",
      description = "Records per batch in the throughput run, default ${DEFAULT-VALUE}.")
  int recordsPerBatch = 1_000_000;

  @Option(
      names = "--throughput-batches",
      description = "Batches per throughput pass, default ${DEFAULT-VALUE}.")
  int throughputBatches = 20;

  private final PrintStream out;

  /** A bench printing to standard output. */
  public EngineBench() {
    this(System.out);
  }

  EngineBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. Exits with 0 on success. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new EngineBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (slots <= 0
        || batches <= 0
        || intervalMs <= 0
        || recordsPerBatch <= 0
        || throughputBatches <= 0
        || passes <= 0
        || warmup < 0
        || intervalRecords < 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "sizes must be > 0 (warmup and interval-records >= 0)");
    }
    out.printf(
        Locale.ROOT,
        "EngineBench: %d slots, %d warm-up + %d measured passes, %s, %d cpus%n",
        slots,
        warmup,
        passes,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors());
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    List<String> summary = new ArrayList<>();
    if (modes.contains(Mode.EMPTY)) {
      double us =
          Passes.median(
              out,
              "empty batch, clock advanced on completion",
              "us/batch",
              warmup,
              passes,
              () -> emptyBatches(false));
      summary.add(
          String.format(
              Locale.ROOT, "empty-batch cycle (serial):     %8.1f us/batch (target < 1000)", us));
    }
    if (modes.contains(Mode.EMPTY_PIPELINED)) {
      double us =
          Passes.median(
              out,
              "empty batch, clock set far ahead",
              "us/batch",
              warmup,
              passes,
              () -> emptyBatches(true));
      summary.add(String.format(Locale.ROOT, "empty-batch cost (pipelined):   %8.1f us/batch", us));
    }
    if (modes.contains(Mode.INTERVAL)) {
      List<IntervalResult> results = new ArrayList<>();
      Passes.median(
          out,
          intervalMs + " ms interval, system clock",
          "ms p99 scheduling delay",
          Math.min(warmup, 1),
          passes,
          () -> {
            IntervalResult r = intervalRun();
            results.add(r);
            return r.p99DelayMs;
          });
      List<IntervalResult> measured = results.subList(results.size() - passes, results.size());
      summary.add(
          String.format(
              Locale.ROOT,
              "%d ms interval (median of passes): scheduling delay p50 %.1f ms,"
                  + " p99 %.1f ms, max %.1f ms; processing p99 %.2f ms; delay drift %+.2f ms;"
                  + " batches/pass %d, late (delay >= interval) %d",
              intervalMs,
              med(measured, r -> r.p50DelayMs),
              med(measured, r -> r.p99DelayMs),
              med(measured, r -> r.maxDelayMs),
              med(measured, r -> r.p99ProcessingMs),
              med(measured, r -> r.driftMs),
              (long) med(measured, r -> r.batches),
              (long) med(measured, r -> r.lateBatches)));
    }
    if (modes.contains(Mode.THROUGHPUT)) {
      List<Long> data = longs(recordsPerBatch);
      String rawName = "map/filter/count, java streams on " + slots + " threads";
      String sluiceName = "map/filter/count, sluice " + slots + " slots";
      Map<String, Passes.Pass> contenders = new LinkedHashMap<>();
      contenders.put(rawName, () -> rawThroughput(data));
      contenders.put(sluiceName, () -> sluiceThroughput(data));
      Map<String, List<Double>> figures =
          Passes.interleaved(out, "records/s", warmup, passes, contenders);
      double raw = Passes.median(figures.get(rawName));
      double sluice = Passes.median(figures.get(sluiceName));
      summary.add(
          String.format(
              Locale.ROOT,
              "map/filter throughput: sluice %s records/s, java streams on plain"
                  + " threads %s records/s, ratio %.2f (median of per-round ratios %.2f)",
              Passes.format(sluice),
              Passes.format(raw),
              sluice / raw,
              Passes.medianRatio(figures.get(sluiceName), figures.get(rawName))));
    }
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.println("Summary (median of " + passes + " warm passes):");
    summary.forEach(s -> out.println("  " + s));
    return 0;
  }

  // ---------------------------------------------------------------- empty batches, manual clock

  private double emptyBatches(boolean pipelined) throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext ctx = context(clock, MANUAL_INTERVAL);
    ctx.queueStream(new ConcurrentLinkedQueue<RDD<Long>>(), true, new EmptySlices(ctx, slots))
        .foreachBatch((rdd, batch) -> rdd.count());
    Histogram cycle = new Histogram(3);
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          private long completed;
          private long last = System.nanoTime();

          @Override
          public void onBatchCompleted(BatchInfo batch) {
            long now = System.nanoTime();
            if (completed > 0) {
              // The first gap includes the context's start-up, not a batch cycle.
              cycle.recordValue(Math.max(0, (now - last) / 1000));
            }
            last = now;
            if (++completed == batches) {
              done.countDown();
            } else if (!pipelined) {
              clock.advance(MANUAL_INTERVAL);
            }
          }

          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failure.set(cause);
            done.countDown();
          }
        });
    ctx.start();
    long t0 = System.nanoTime();
    clock.advance(pipelined ? MANUAL_INTERVAL.multipliedBy(batches) : MANUAL_INTERVAL);
    boolean finished = done.await(10, TimeUnit.MINUTES);
    double seconds = Passes.secondsSince(t0);
    ctx.stop(false);
    check(finished, failure.get(), "empty batches");
    out.printf(
        Locale.ROOT,
        "    %,d batches in %.2f s; per-batch gap p50 %d us, p99 %d us, max %d us%n",
        batches,
        seconds,
        cycle.getValueAtPercentile(50),
        cycle.getValueAtPercentile(99),
        cycle.getMaxValue());
    return seconds * 1e6 / batches;
  }

  // ---------------------------------------------------------------- system clock at a short
  // interval

  /** One system-clock pass; delays in milliseconds. */
  private record IntervalResult(
      long batches,
      double p50DelayMs,
      double p99DelayMs,
      double maxDelayMs,
      double p99ProcessingMs,
      double driftMs,
      long lateBatches) {}

  private IntervalResult intervalRun() throws Exception {
    Duration interval = Duration.ofMillis(intervalMs);
    StreamingContext ctx = context(SystemClock.INSTANCE, interval);
    RDD<Long> perBatch =
        intervalRecords == 0
            ? new EmptySlices(ctx, slots)
            : ctx.parallelize(longs(intervalRecords), slots);
    ctx.queueStream(new ConcurrentLinkedQueue<RDD<Long>>(), true, perBatch)
        .map(x -> x * 31 + 7)
        .filter(x -> (x & 1) == 0)
        .foreachBatch((rdd, batch) -> rdd.count());
    List<long[]> delays = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo b) {
            delays.add(
                new long[] {
                  b.schedulingDelay().orElseThrow().toMillis(),
                  b.processingTime().orElseThrow().toNanos()
                });
          }

          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failure.set(cause);
          }
        });
    ctx.start();
    long deadline = System.nanoTime() + (long) (intervalSeconds * 1e9);
    // The bench is a program, not a test: it measures for a fixed wall-clock time on purpose.
    while (System.nanoTime() < deadline && ctx.state() == StreamingContext.State.ACTIVE) {
      Thread.sleep(50);
    }
    ctx.stop(true);
    check(true, failure.get(), "system-clock run");
    List<long[]> all = new ArrayList<>(delays);
    // The first batches pay for thread start-up and class loading: leave them out.
    List<long[]> steady = all.subList(Math.min(5, all.size()), all.size());
    if (steady.isEmpty()) {
      throw new IllegalStateException("no batch completed in " + intervalSeconds + " s");
    }
    Histogram delay = new Histogram(3);
    Histogram processing = new Histogram(3);
    long late = 0;
    for (long[] d : steady) {
      delay.recordValue(d[0]);
      processing.recordValue(d[1] / 1000);
      if (d[0] >= intervalMs) {
        late++;
      }
    }
    int q = Math.max(1, steady.size() / 4);
    double drift =
        mean(steady.subList(steady.size() - q, steady.size())) - mean(steady.subList(0, q));
    IntervalResult r =
        new IntervalResult(
            steady.size(),
            delay.getValueAtPercentile(50),
            delay.getValueAtPercentile(99),
            delay.getMaxValue(),
            processing.getValueAtPercentile(99) / 1000.0,
            drift,
            late);
    out.printf(
        Locale.ROOT,
        "    %d batches: scheduling delay p50 %.0f ms, p99 %.0f ms, max %.0f ms;"
            + " processing p99 %.2f ms; drift (last quarter - first quarter) %+.2f ms; late %d%n",
        r.batches,
        r.p50DelayMs,
        r.p99DelayMs,
        r.maxDelayMs,
        r.p99ProcessingMs,
        r.driftMs,
        r.lateBatches);
    return r;
  }

  private static double mean(List<long[]> rows) {
    return rows.stream().mapToLong(d -> d[0]).average().orElse(0);
  }

  // ---------------------------------------------------------------- map/filter throughput

  private double sluiceThroughput(List<Long> data) throws Exception {
    ManualClock clock = new ManualClock();
    StreamingContext ctx = context(clock, MANUAL_INTERVAL);
    RDD<Long> batch = ctx.parallelize(data, slots);
    AtomicLong kept = new AtomicLong();
    ctx.queueStream(new ConcurrentLinkedQueue<RDD<Long>>(), true, batch)
        .map(x -> x * 31 + 7)
        .filter(x -> (x & 1) == 0)
        .foreachBatch((rdd, b) -> kept.addAndGet(rdd.count()));
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          private int completed;

          @Override
          public void onBatchCompleted(BatchInfo b) {
            if (++completed == throughputBatches) {
              done.countDown();
            } else {
              clock.advance(MANUAL_INTERVAL);
            }
          }

          @Override
          public void onBatchFailed(BatchInfo b, Throwable cause) {
            failure.set(cause);
            done.countDown();
          }
        });
    ctx.start();
    long t0 = System.nanoTime();
    clock.advance(MANUAL_INTERVAL);
    boolean finished = done.await(10, TimeUnit.MINUTES);
    double seconds = Passes.secondsSince(t0);
    ctx.stop(false);
    check(finished, failure.get(), "throughput run");
    long expected = (long) throughputBatches * expectedKept(data.size());
    if (kept.get() != expected) {
      throw new IllegalStateException(
          "sluice kept " + kept.get() + " records, expected " + expected);
    }
    return (double) throughputBatches * data.size() / seconds;
  }

  /**
   * The same map, filter and count as a {@code java.util.stream} pipeline on plain threads, one
   * contiguous slice each: the engine-free reference. (A hand-written loop lets the JIT drop the
   * boxing altogether, which measures escape analysis rather than a pipeline.)
   */
  private double rawThroughput(List<Long> data) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    try {
      long kept = 0;
      long t0 = System.nanoTime();
      for (int b = 0; b < throughputBatches; b++) {
        List<Future<Long>> parts = new ArrayList<>();
        for (int s = 0; s < slots; s++) {
          List<Long> slice =
              data.subList(
                  (int) ((long) s * data.size() / slots),
                  (int) ((long) (s + 1) * data.size() / slots));
          parts.add(
              pool.submit(
                  () -> slice.stream().map(x -> x * 31 + 7).filter(x -> (x & 1) == 0).count()));
        }
        for (Future<Long> f : parts) {
          kept += f.get();
        }
      }
      double seconds = Passes.secondsSince(t0);
      long expected = (long) throughputBatches * expectedKept(data.size());
      if (kept != expected) {
        throw new IllegalStateException(
            "plain threads kept " + kept + " records, expected " + expected);
      }
      return (double) throughputBatches * data.size() / seconds;
    } finally {
      pool.shutdownNow();
    }
  }

  /** x * 31 + 7 is even exactly when x is odd. */
  private static long expectedKept(int n) {
    return n / 2;
  }

  // ---------------------------------------------------------------- helpers

  private StreamingContext context(Clock clock, Duration interval) {
    return StreamingContext.builder()
        .appName("engine-bench")
        .batchInterval(interval)
        .parallelism(slots)
        .clock(clock)
        .build();
  }

  private static List<Long> longs(int n) {
    List<Long> data = new ArrayList<>(n);
    for (long i = 0; i < n; i++) {
      data.add(i);
    }
    return data;
  }

  private static void check(boolean finished, Throwable failure, String what) {
    if (failure != null) {
      throw new IllegalStateException(what + " failed", failure);
    }
    if (!finished) {
      throw new IllegalStateException(what + " did not finish within 10 minutes");
    }
  }

  private static double med(
      List<IntervalResult> rs, java.util.function.ToDoubleFunction<IntervalResult> f) {
    List<Double> v = new ArrayList<>();
    rs.forEach(r -> v.add(f.applyAsDouble(r)));
    return Passes.median(v);
  }

  /** {@code n} partitions with no elements: every batch runs one job of {@code n} empty tasks. */
  private static final class EmptySlices extends RDD<Long> {
    private final int partitions;

    EmptySlices(StreamingContext ctx, int partitions) {
      super(ctx);
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public Iterator<Long> compute(int partition, TaskContext ctx) {
      return Collections.emptyIterator();
    }
  }

  /** Accepts mode names in any case, with '-' or '_'. */
  static final class ModeConverter implements CommandLine.ITypeConverter<Mode> {
    @Override
    public Mode convert(String value) {
      return Mode.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }
}
