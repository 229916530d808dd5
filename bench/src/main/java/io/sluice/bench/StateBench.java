package io.sluice.bench;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.KV;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.MapWithStateDStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.rdd.HashPartitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.State;
import io.sluice.engine.state.StateSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Keyed state at scale: what a batch of {@code mapWithState} costs as the number of keys held
 * grows, what the state store writes per batch, how long a restart on a large state takes, and the
 * same batches through {@code updateStateByKey} for comparison.
 *
 * <ul>
 *   <li>{@code map-with-state}: for each of {@code --keys}, the state is filled with that many keys
 *       through {@link StateSpec#initialState} (applied by the first batch), then every batch
 *       carries {@code --touched} records over distinct keys (a window that moves through the key
 *       space). A {@link ManualClock} advanced as each batch completes runs the batches one at a
 *       time; the checkpoint directory is on local disk, so each batch's delta (and every {@code
 *       --snapshot-interval}-th batch's snapshot of the whole state) is written and fsynced inside
 *       the batch. Reports per-batch wall-clock time for the delta-only batches and the snapshot
 *       batches apart, and the bytes of each from the checkpoint directory.
 *   <li>{@code map-with-state-memory}: the same without a checkpoint directory (state in memory
 *       only), so the difference is the cost of persisting.
 *   <li>{@code update-state-by-key}: the same input through {@code updateStateByKey} at {@code
 *       --ubk-keys}; by Spark's semantics it calls the update function for every key held, every
 *       batch, and its output is the whole state.
 *   <li>{@code recovery}: a checkpoint holding {@code --recovery-keys} keys (a snapshot plus the
 *       most deltas there can be after it: {@code snapshot-interval - 1}), then the time of {@link
 *       StreamingContext#start()} on it, which loads the state before it returns.
 * </ul>
 *
 * <p>Each figure is the median of {@code --passes} passes after {@code --warmup} passes in the same
 * JVM; a pass is {@code --batches} batches of one running context (the state is filled once per
 * size). Nothing here asserts a time: the figures are printed.
 */
@Command(
    name = "StateBench",
    mixinStandardHelpOptions = true,
    description =
        "mapWithState per-batch time against keys held, state persisted per batch, recovery time,"
            + " updateStateByKey for comparison.")
public final class StateBench implements Callable<Integer> {

  /** The measurements this bench can run. */
  enum Mode {
    MAP_WITH_STATE,
    MAP_WITH_STATE_MEMORY,
    UPDATE_STATE_BY_KEY,
    RECOVERY
  }

  /** The stateful operator a run drives. */
  private enum Operator {
    MAP_WITH_STATE("mapWithState"),
    UPDATE_STATE_BY_KEY("updateStateByKey");

    final String label;

    Operator(String label) {
      this.label = label;
    }
  }

  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final String OPERATOR = "counts";

  /** The value every key starts with, so a lost state shows in the recovery check. */
  private static final long INITIAL_VALUE = 1_000;

  @Option(
      names = "--modes",
      split = ",",
      description = "Measurements to run, from ${COMPLETION-CANDIDATES} (default: all).",
      converter = ModeConverter.class)
  Set<Mode> modes = EnumSet.allOf(Mode.class);

  @Option(
      names = "--keys",
      split = ",",
      description = "Keys held by mapWithState, default ${DEFAULT-VALUE}.")
  List<Integer> keys = List.of(10_000, 100_000, 1_000_000);

  @Option(
      names = "--ubk-keys",
      split = ",",
      description = "Keys held by updateStateByKey, default ${DEFAULT-VALUE}.")
  List<Integer> ubkKeys = List.of(10_000, 100_000);

  @Option(
      names = "--recovery-keys",
      description = "Keys held in the recovered checkpoint, default ${DEFAULT-VALUE}.")
  int recoveryKeys = 1_000_000;

  @Option(
      names = "--touched",
      description = "Records per batch, over distinct keys, default ${DEFAULT-VALUE}.")
  int touched = 10_000;

  @Option(names = "--batches", description = "Batches per pass, default ${DEFAULT-VALUE}.")
  int batches = 30;

  @Option(names = "--warmup", description = "Warm-up passes per size, default ${DEFAULT-VALUE}.")
  int warmup = 3;

  @Option(names = "--passes", description = "Measured passes per size, default ${DEFAULT-VALUE}.")
  int passes = 5;

  @Option(names = "--recovery-warmup", description = "Warm-up restarts, default ${DEFAULT-VALUE}.")
  int recoveryWarmup = 1;

  @Option(names = "--recovery-passes", description = "Measured restarts, default ${DEFAULT-VALUE}.")
  int recoveryPasses = 5;

  @Option(
      names = "--slots",
      description = "Task slots, also the number of state partitions, default ${DEFAULT-VALUE}.")
  int slots = 4;

  @Option(
      names = "--snapshot-interval",
      description =
          "StreamingContext.stateSnapshotInterval: a snapshot every this many batches,"
              + " default ${DEFAULT-VALUE} (the engine's default).")
  int snapshotInterval = 10;

  @Option(
      names = "--dir",
      description =
          "Where the checkpoint directories go (local disk); default a temporary directory,"
              + " deleted at the end.")
  Path dir;

  private final PrintStream out;

  /** A bench printing to standard output. */
  public StateBench() {
    this(System.out);
  }

  StateBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. Exits with 0 on success. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new StateBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    validate();
    out.printf(
        Locale.ROOT,
        "StateBench: %,d records per batch over distinct keys, %d slots = state partitions,"
            + " snapshot every %d batches, %d warm-up + %d measured passes of %d batches, %s,"
            + " %d cpus, max heap %,d MB%n",
        touched,
        slots,
        snapshotInterval,
        warmup,
        passes,
        batches,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    Path root =
        dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("statebench");
    out.println("checkpoint directories under " + root);
    List<String> summary = new ArrayList<>();
    try {
      if (modes.contains(Mode.MAP_WITH_STATE) || modes.contains(Mode.MAP_WITH_STATE_MEMORY)) {
        summary.add(SizeResult.HEADER);
        for (int n : keys) {
          if (modes.contains(Mode.MAP_WITH_STATE)) {
            summary.add(measure(Operator.MAP_WITH_STATE, n, root.resolve("mws-" + n)).row());
          }
          if (modes.contains(Mode.MAP_WITH_STATE_MEMORY)) {
            summary.add(measure(Operator.MAP_WITH_STATE, n, null).row());
          }
        }
      }
      if (modes.contains(Mode.UPDATE_STATE_BY_KEY)) {
        if (summary.isEmpty()) {
          summary.add(SizeResult.HEADER);
        }
        for (int n : ubkKeys) {
          summary.add(measure(Operator.UPDATE_STATE_BY_KEY, n, root.resolve("ubk-" + n)).row());
        }
      }
      if (modes.contains(Mode.RECOVERY)) {
        summary.add(recovery(root.resolve("recovery-" + recoveryKeys)));
      }
    } finally {
      if (dir == null) {
        BenchData.deleteTree(root);
      }
    }
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.println(
        "Summary (per-batch wall-clock ms over the measured batches of "
            + passes
            + " passes; 'snap' = batches that also write a snapshot of the whole state):");
    summary.forEach(s -> out.println("  " + s));
    return 0;
  }

  private void validate() {
    List<Integer> sizes = new ArrayList<>(keys);
    sizes.addAll(ubkKeys);
    sizes.add(recoveryKeys);
    boolean ok =
        touched > 0
            && batches > 0
            && passes > 0
            && warmup >= 0
            && recoveryPasses > 0
            && recoveryWarmup >= 0
            && slots > 0
            && snapshotInterval > 0
            && sizes.stream().allMatch(n -> n >= touched);
    if (!ok) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "sizes must be > 0 (warm-ups >= 0) and every number of keys >= --touched ("
              + touched
              + ")");
    }
  }

  // ---------------------------------------------------------------- per-batch time per size

  /**
   * Fills the state of a new context with {@code n} keys, then runs the warm-up and measured
   * passes; {@code checkpoint} null keeps the state in memory only.
   */
  private SizeResult measure(Operator op, int n, Path checkpoint) throws Exception {
    String name =
        String.format(
            Locale.ROOT,
            "%s, %,d keys%s",
            op.label,
            n,
            checkpoint == null ? ", no checkpoint" : "");
    out.println();
    out.println(name + ":");
    ManualClock clock = new ManualClock();
    StreamingContext ctx = context(clock, checkpoint);
    Queue<RDD<KV<Long, Long>>> queue = new ConcurrentLinkedQueue<>();
    Driver driver = graph(ctx, op, queue, n, checkpoint, null);
    queue.add(ctx.parallelize(List.of(), slots));
    queue.addAll(touching(ctx, n, 1 + (warmup + passes) * batches));
    List<BatchRecord> measured = new ArrayList<>();
    try {
      ctx.start();
      long t0 = System.nanoTime();
      BatchRecord fill = driver.run(1).get(0);
      out.printf(
          Locale.ROOT,
          "  fill: %,d keys applied by the first batch in %.0f ms (%.0f ms with start-up);"
              + " wrote %s; heap used after GC %,d MB%n",
          n,
          fill.micros() / 1e3,
          Passes.secondsSince(t0) * 1e3,
          fill.describeBytes(),
          heapUsedMb());
      int[] pass = {0};
      Passes.median(
          out,
          name,
          "ms p50 delta-only batch",
          warmup,
          passes,
          () -> {
            List<BatchRecord> r = driver.run(batches);
            if (++pass[0] > warmup) {
              measured.addAll(r);
            }
            out.println("    " + describe(r, checkpoint != null));
            return percentileMs(r, b -> !b.snapshot(), 50);
          });
    } finally {
      ctx.stop(true);
      if (checkpoint != null) {
        BenchData.deleteTree(checkpoint);
      }
    }
    return new SizeResult(
        op.label + (checkpoint == null ? " (memory)" : ""), n, measured, checkpoint != null);
  }

  /**
   * The graph of one run: a queue input, the stateful operator, an output counting its results
   * (and, with {@code probe}, keeping mapWithState's results by key).
   */
  private Driver graph(
      StreamingContext ctx,
      Operator op,
      Queue<RDD<KV<Long, Long>>> queue,
      int initialKeys,
      Path checkpoint,
      Map<Long, Long> probe) {
    Map<Long, Long> outputs = new ConcurrentHashMap<>();
    PairDStream<Long, Long> in = PairDStream.of(ctx.queueStream(queue, true, null));
    RDD<KV<Long, Long>> initial = initialKeys > 0 ? ctx.parallelize(initial(initialKeys)) : null;
    if (op == Operator.MAP_WITH_STATE) {
      StateSpec<Long, Long, Long, KV<Long, Long>> spec =
          StateSpec.function(
              (Long key, Optional<Long> value, State<Long> state) -> {
                long next = state.getOption().orElse(0L) + value.orElse(0L);
                state.update(next);
                return KV.of(key, next);
              });
      if (initial != null) {
        spec = spec.initialState(initial);
      }
      MapWithStateDStream<Long, Long, Long, KV<Long, Long>> mapped = in.mapWithState(spec);
      mapped.name(OPERATOR);
      if (probe == null) {
        mapped.foreachBatch((rdd, b) -> outputs.put(b.id(), rdd.count()));
      } else {
        mapped.foreachBatch(
            (rdd, b) -> {
              List<KV<Long, Long>> results = rdd.collect();
              results.forEach(kv -> probe.put(kv.key(), kv.value()));
              outputs.put(b.id(), (long) results.size());
            });
      }
    } else {
      in.updateStateByKey(
              (List<Long> values, Optional<Long> state) -> {
                long next = state.orElse(0L);
                for (long v : values) {
                  next += v;
                }
                return Optional.of(next);
              },
              new HashPartitioner(slots),
              initial)
          .name(OPERATOR)
          .foreachBatch((rdd, b) -> outputs.put(b.id(), rdd.count()));
    }
    Driver driver =
        new Driver(clock(ctx), checkpoint == null ? null : checkpoint.resolve("state"), outputs);
    ctx.addStreamingListener(driver);
    return driver;
  }

  private static ManualClock clock(StreamingContext ctx) {
    return (ManualClock) ctx.clock();
  }

  /**
   * The input of {@code count} batches: batch i (from 0) carries one record of value 1 for each of
   * the {@code --touched} keys from {@code i * touched} on, modulo {@code n}. Batches that carry
   * the same keys share one RDD.
   */
  private List<RDD<KV<Long, Long>>> touching(StreamingContext ctx, int n, int count) {
    int cycle = n / gcd(n, touched);
    List<RDD<KV<Long, Long>>> distinct = new ArrayList<>();
    List<RDD<KV<Long, Long>>> all = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      if (i < cycle) {
        List<KV<Long, Long>> records = new ArrayList<>(touched);
        long from = (long) i * touched % n;
        for (int j = 0; j < touched; j++) {
          records.add(KV.of((from + j) % n, 1L));
        }
        distinct.add(ctx.parallelize(records, slots));
      }
      all.add(distinct.get(i % cycle));
    }
    return all;
  }

  /** How many of the first {@code count} batches of {@link #touching} carry {@code key}. */
  private long touches(int n, long key, int count) {
    long hits = 0;
    for (int i = 0; i < count; i++) {
      long from = (long) i * touched % n;
      long offset = Math.floorMod(key - from, (long) n);
      if (offset < touched) {
        hits++;
      }
    }
    return hits;
  }

  private static List<KV<Long, Long>> initial(int n) {
    List<KV<Long, Long>> kvs = new ArrayList<>(n);
    for (long k = 0; k < n; k++) {
      kvs.add(KV.of(k, INITIAL_VALUE));
    }
    return kvs;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Builds a checkpoint of {@code --recovery-keys} keys (a fill batch, then {@code 2 *
   * snapshot-interval - 1} batches, so the newest snapshot has {@code snapshot-interval - 1} deltas
   * after it), then times {@code start()} of a new context on it; the last restart runs one batch
   * and checks that the state came back.
   */
  private String recovery(Path checkpoint) throws Exception {
    int n = recoveryKeys;
    out.println();
    out.printf(Locale.ROOT, "recovery, mapWithState, %,d keys:%n", n);
    int runBatches = 2 * snapshotInterval - 1;
    ManualClock clock = new ManualClock();
    StreamingContext ctx = context(clock, checkpoint);
    Queue<RDD<KV<Long, Long>>> queue = new ConcurrentLinkedQueue<>();
    Driver driver = graph(ctx, Operator.MAP_WITH_STATE, queue, n, checkpoint, null);
    queue.add(ctx.parallelize(List.of(), slots));
    queue.addAll(touching(ctx, n, runBatches));
    try {
      ctx.start();
      driver.run(1 + runBatches);
    } finally {
      ctx.stop(true);
    }
    Instant last = clock.now();
    String files = describeStateFiles(checkpoint.resolve("state"));
    out.printf(
        Locale.ROOT, "  checkpoint: %,d batches committed; state %s%n", 1 + runBatches, files);
    int total = recoveryWarmup + recoveryPasses;
    int[] restart = {0};
    try {
      double ms =
          Passes.median(
              out,
              "StreamingContext.start() on " + n + " keys",
              "ms",
              recoveryWarmup,
              recoveryPasses,
              () -> restart(checkpoint, last, n, runBatches, ++restart[0] == total));
      return String.format(
          Locale.ROOT,
          "recovery: start() on a checkpoint of %,d mapWithState keys (%s): %.0f ms (median of %d"
              + " restarts)",
          n,
          files,
          ms,
          recoveryPasses);
    } finally {
      BenchData.deleteTree(checkpoint);
    }
  }

  /** One restart on {@code checkpoint}; returns the ms {@code start()} took. */
  private double restart(Path checkpoint, Instant last, int n, int runBatches, boolean check)
      throws Exception {
    System.gc();
    ManualClock clock = new ManualClock(last);
    StreamingContext ctx = context(clock, checkpoint);
    Queue<RDD<KV<Long, Long>>> queue = new ConcurrentLinkedQueue<>();
    Map<Long, Long> seen = new ConcurrentHashMap<>();
    Driver driver = graph(ctx, Operator.MAP_WITH_STATE, queue, 0, checkpoint, seen);
    long[] keysToCheck = {0, n - 1};
    List<KV<Long, Long>> probe = new ArrayList<>();
    for (long k : keysToCheck) {
      probe.add(KV.of(k, 1L));
    }
    queue.add(ctx.parallelize(probe, slots));
    double ms;
    try {
      long t0 = System.nanoTime();
      ctx.start();
      ms = Passes.secondsSince(t0) * 1e3;
      if (check) {
        driver.run(1);
        for (long k : keysToCheck) {
          long expected = INITIAL_VALUE + touches(n, k, runBatches) + 1;
          if (seen.getOrDefault(k, -1L) != expected) {
            throw new IllegalStateException(
                "after the restart key "
                    + k
                    + " maps to "
                    + seen.get(k)
                    + ", expected "
                    + expected
                    + ": the state did not come back");
          }
        }
        out.println("    the restarted context's first batch saw the recovered state: " + seen);
      }
    } finally {
      ctx.stop(true);
    }
    return ms;
  }

  // ---------------------------------------------------------------- driving batches

  /** What one batch took and wrote. */
  private record BatchRecord(
      long id, long micros, long deltaBytes, long snapshotBytes, boolean snapshot, long outputs) {

    String describeBytes() {
      return String.format(
          Locale.ROOT,
          "delta %.2f MB%s",
          deltaBytes / 1e6,
          snapshotBytes >= 0
              ? String.format(Locale.ROOT, ", snapshot %.2f MB", snapshotBytes / 1e6)
              : "");
    }
  }

  /**
   * Runs a context's batches one at a time: the clock is advanced by one interval as each batch
   * completes, on the listener thread, so nothing overlaps. Records each batch's wall-clock time
   * (listener start to completion events) and the bytes of its state files in the checkpoint.
   */
  private final class Driver implements StreamingListener {
    private final ManualClock clock;
    private final Path stateRoot; // null: no files
    private final Map<Long, Long> outputs;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    // Handed over through the clock (synchronized) and the engine's queues: run() writes them
    // before advancing the clock, the listener reads them after the batch that advance triggers.
    private List<BatchRecord> records;
    private int remaining;
    private CountDownLatch done;
    private long started;

    Driver(ManualClock clock, Path stateRoot, Map<Long, Long> outputs) {
      this.clock = clock;
      this.stateRoot = stateRoot;
      this.outputs = outputs;
    }

    List<BatchRecord> run(int n) throws InterruptedException {
      records = new ArrayList<>(n);
      remaining = n;
      done = new CountDownLatch(1);
      clock.advance(INTERVAL);
      if (!done.await(30, TimeUnit.MINUTES)) {
        throw new IllegalStateException(n + " batches did not complete within 30 minutes");
      }
      if (failure.get() != null) {
        throw new IllegalStateException("a batch failed", failure.get());
      }
      return records;
    }

    @Override
    public void onBatchStarted(BatchInfo batch) {
      started = System.nanoTime();
    }

    @Override
    public void onBatchCompleted(BatchInfo batch) {
      long micros = (System.nanoTime() - started) / 1000;
      long id = batch.batchId();
      long[] bytes = stateFileBytes(id);
      records.add(
          new BatchRecord(
              id,
              micros,
              bytes[0],
              bytes[1],
              id % snapshotInterval == 0,
              outputs.getOrDefault(id, -1L)));
      if (--remaining > 0) {
        clock.advance(INTERVAL);
      } else {
        done.countDown();
      }
    }

    @Override
    public void onBatchFailed(BatchInfo batch, Throwable cause) {
      failure.set(cause);
      done.countDown();
    }

    /** Bytes of batch {@code id}'s delta files and snapshot files (-1: none) in every partition. */
    private long[] stateFileBytes(long id) {
      if (stateRoot == null || !Files.isDirectory(stateRoot)) {
        return new long[] {0, -1};
      }
      long[] bytes = {0, -1};
      try (Stream<Path> files = Files.walk(stateRoot, 3)) {
        files.forEach(
            f -> {
              String file = f.getFileName().toString();
              if (file.equals(id + ".delta")) {
                bytes[0] += size(f);
              } else if (file.equals(id + ".snapshot")) {
                bytes[1] = Math.max(bytes[1], 0) + size(f);
              }
            });
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes;
    }
  }

  // ---------------------------------------------------------------- results

  /** The measured batches of one size. */
  private record SizeResult(String operator, int keys, List<BatchRecord> batches, boolean files) {

    static final String HEADER =
        String.format(
            Locale.ROOT,
            "%-26s %10s %9s %9s %9s %9s %9s %9s %10s %10s",
            "operator",
            "keys held",
            "all p50",
            "all p99",
            "delta p50",
            "delta p99",
            "snap p50",
            "snap max",
            "MB/delta",
            "MB/snap");

    String row() {
      return String.format(
          Locale.ROOT,
          "%-26s %,10d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %10s %10s",
          operator,
          keys,
          percentileMs(batches, b -> true, 50),
          percentileMs(batches, b -> true, 99),
          percentileMs(batches, b -> !b.snapshot(), 50),
          percentileMs(batches, b -> !b.snapshot(), 99),
          percentileMs(batches, BatchRecord::snapshot, 50),
          percentileMs(batches, BatchRecord::snapshot, 100),
          files ? mb(mean(batches, b -> !b.snapshot(), BatchRecord::deltaBytes)) : "-",
          files ? mb(mean(batches, BatchRecord::snapshot, BatchRecord::snapshotBytes)) : "-");
    }

    private static String mb(double bytes) {
      return Double.isNaN(bytes) ? "-" : String.format(Locale.ROOT, "%.2f", bytes / 1e6);
    }
  }

  /** One pass on one line: delta-only and snapshot batches apart, with what they wrote. */
  private static String describe(List<BatchRecord> r, boolean files) {
    long wrongOutputs = r.stream().filter(b -> b.outputs() < 0).count();
    String written =
        files
            ? String.format(
                Locale.ROOT,
                "; per delta %.3f MB, per snapshot %.2f MB",
                mean(r, b -> !b.snapshot(), BatchRecord::deltaBytes) / 1e6,
                mean(r, BatchRecord::snapshot, BatchRecord::snapshotBytes) / 1e6)
            : "";
    return String.format(
        Locale.ROOT,
        "%d batches: delta-only p50 %.1f ms, p99 %.1f ms; snapshot batches (%d) p50 %.1f ms,"
            + " max %.1f ms%s; results per batch %s%s",
        r.size(),
        percentileMs(r, b -> !b.snapshot(), 50),
        percentileMs(r, b -> !b.snapshot(), 99),
        r.stream().filter(BatchRecord::snapshot).count(),
        percentileMs(r, BatchRecord::snapshot, 50),
        percentileMs(r, BatchRecord::snapshot, 100),
        written,
        r.stream().map(BatchRecord::outputs).distinct().toList(),
        wrongOutputs > 0 ? " (MISSING OUTPUTS " + wrongOutputs + ")" : "");
  }

  /** The percentile of the batches' times in ms ({@code NaN} when none match). */
  private static double percentileMs(
      List<BatchRecord> r, Predicate<BatchRecord> which, double percentile) {
    Histogram h = new Histogram(3);
    r.stream().filter(which).forEach(b -> h.recordValue(b.micros()));
    if (h.getTotalCount() == 0) {
      return Double.NaN;
    }
    return (percentile >= 100 ? h.getMaxValue() : h.getValueAtPercentile(percentile)) / 1e3;
  }

  private static double mean(
      List<BatchRecord> r, Predicate<BatchRecord> which, ToDoubleFunction<BatchRecord> f) {
    return r.stream().filter(which).mapToDouble(f).average().orElse(Double.NaN);
  }

  /**
   * The newest snapshot's size and the deltas after it (what recovery reads), summed over the
   * partitions.
   */
  private static String describeStateFiles(Path stateRoot) throws IOException {
    long newestSnapshot = -1;
    List<Path> files;
    try (Stream<Path> s = Files.walk(stateRoot)) {
      files = s.filter(Files::isRegularFile).toList();
    }
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.endsWith(".snapshot")) {
        newestSnapshot = Math.max(newestSnapshot, version(name));
      }
    }
    long snapBytes = 0;
    long deltaBytes = 0;
    long deltas = 0;
    long partitions = files.stream().map(Path::getParent).distinct().count();
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.equals(newestSnapshot + ".snapshot")) {
        snapBytes += size(f);
      } else if (name.endsWith(".delta") && version(name) > newestSnapshot) {
        deltaBytes += size(f);
        deltas++;
      }
    }
    return String.format(
        Locale.ROOT,
        "%d partitions: snapshot %d, %.1f MB + %d deltas after it, %.1f MB; %d files in all",
        partitions,
        newestSnapshot,
        snapBytes / 1e6,
        deltas / Math.max(1, partitions),
        deltaBytes / 1e6,
        files.size());
  }

  private static long version(String fileName) {
    return Long.parseLong(fileName.substring(0, fileName.indexOf('.')));
  }

  // ---------------------------------------------------------------- helpers

  private StreamingContext context(ManualClock clock, Path checkpoint) {
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("state-bench")
            .batchInterval(INTERVAL)
            .parallelism(slots)
            .clock(clock)
            .stateSnapshotInterval(snapshotInterval);
    return checkpoint == null ? b.build() : b.checkpointDir(checkpoint).build();
  }

  private static long heapUsedMb() {
    System.gc();
    Runtime rt = Runtime.getRuntime();
    return (rt.totalMemory() - rt.freeMemory()) >> 20;
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      return 0; // deleted by the store's cleanup meanwhile
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
