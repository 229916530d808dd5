package io.sluice.bench;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.kafka.receiver.KafkaReceivers;
import io.sluice.kafka.receiver.ReliableReceiverOptions;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedZooKeeper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The reliable Kafka receiver ({@code kafka-receiver}) against the direct stream, on one embedded
 * KRaft broker, one embedded ZooKeeper and the same data, in one JVM. Contenders:
 *
 * <ul>
 *   <li>{@code direct}: {@code KafkaDirect.createDirectStream} from the earliest offsets,
 *       committing each batch's offsets to ZooKeeper ({@code DirectStreamOptions.offsetStore}).
 *   <li>{@code reliable-zk}: {@code KafkaReceivers.reliable} with the receiver write-ahead log
 *       ({@code receiverWriteAheadLog(true)}) and its offsets in ZooKeeper ({@code
 *       OffsetStores.zookeeper}): per poll, one block appended and fsynced to the log, recorded and
 *       fsynced by the block tracker, then one fenced commit to ZooKeeper.
 *   <li>{@code reliable-group}: the same receiver and log, offsets to the Kafka group ({@code
 *       commitSync}).
 *   <li>{@code plain}: {@code KafkaReceivers.create} without the log (blocks in memory, {@code
 *       commitSync} per block): what the log costs, by difference.
 * </ul>
 *
 * Every contender runs in a context with {@code --slots} task slots and a checkpoint directory
 * under {@code --dir} (a real disk, by default {@code target/receiver-bench}: the log's and the
 * tracker's fsyncs are part of what is measured); a receiver holds one of the slots for its life,
 * so its batches run on {@code slots - 1}. The consumer parameters are the same for all ({@code
 * max.poll.records} from {@code --max-poll-records}, else Kafka's 500, which bounds a receiver's
 * block).
 *
 * <p><b>Throughput</b> ({@code --modes throughput}): {@code --records} String values of {@code
 * --value-bytes} bytes on {@code --partitions} partitions, written once; each pass reads the whole
 * topic with a fresh group, a fresh checkpoint directory and a fresh ZooKeeper path, on the system
 * clock at {@code --interval-ms}, with the same job: {@code map(ConsumerRecord::value)}, then
 * {@code count()} per batch in {@code foreachBatch}. A pass ends when the counts reach the topic's
 * size; its figure is records / (that moment - {@code start()}), so start-up (the receivers' group
 * join) is included; the rate after the first batch with records is printed apart. Passes run
 * interleaved ({@link Passes#interleaved}): {@code --warmup} rounds, then {@code --passes} rounds
 * whose median is reported.
 *
 * <p><b>Latency</b> ({@code --modes latency}): a producer thread writes {@code --rate} records/s to
 * a fresh topic, each value starting with its send time ({@link System#nanoTime()}); the job reads
 * every value in the batch's tasks ({@code foreachPartition}) and records now - send time into an
 * HdrHistogram: end to end up to the output action of the batch, no sink. One cell per (contender,
 * {@code --intervals-ms}): {@code --warmup-seconds} unrecorded, then {@code --seconds} recorded.
 * Per cell: latency p50/p99/p99.9/max, the p50 of the second half of the recording minus the first
 * (a receiver falling behind shows there, not in the batches' scheduling delay), the records sent
 * but not yet counted at the end, and the batches' scheduling delay and processing time. A cell is
 * <em>stable</em> when that p50 drift stays below one interval, less than two intervals of input
 * were sent but not counted at the end, and the producer kept its rate. With {@code --modes
 * latency} alone the first cells run on a cold JIT (the throughput passes warm it otherwise).
 *
 * <p>Nothing asserts a time. Build once and run from the repository root:
 *
 * <pre>
 * ./mvnw -q -B install -pl bench -am -DskipTests
 * ./mvnw -q -B -o dependency:build-classpath -pl bench -Dmdep.outputFile=target/cp.txt
 * CP=bench/target/classes:$(cat bench/target/cp.txt)
 * java -Xmx2g -XX:G1HeapRegionSize=4m -cp $CP io.sluice.bench.ReceiverBench --records 5000000
 * java -Xmx2g -XX:G1HeapRegionSize=4m -cp $CP io.sluice.bench.ReceiverBench --modes throughput \
 *   --records 5000000 --max-poll-records 5000
 * java -Xmx2g -XX:G1HeapRegionSize=4m -cp $CP io.sluice.bench.ReceiverBench --modes latency \
 *   --rate 50000 --intervals-ms 500,1000 --latency-contenders direct,reliable-zk,reliable-group
 * </pre>
 *
 * The first, with the defaults (1 warm-up + 3 measured rounds of the four contenders, then four
 * latency cells of 25 s), takes about 20-30 minutes on 2 cores: a receiver with Kafka's default
 * {@code max.poll.records} reads 50-80 k records/s there. Where the receiver's consumer thread
 * waits: record with {@code -XX:StartFlightRecording=filename=rx.jfr,settings=bench/jfr/waits.jfc}
 * and run {@code WaitSummary rx.jfr --threads sluice-kafka-receiver}.
 */
@Command(
    name = "ReceiverBench",
    mixinStandardHelpOptions = true,
    description =
        "Reliable Kafka receiver (write-ahead log, ZooKeeper offsets) vs the direct stream:"
            + " throughput and end-to-end latency.")
public final class ReceiverBench implements Callable<Integer> {

  /** The readers this bench can measure. */
  enum Contender {
    DIRECT("direct", "direct stream, offsets to ZooKeeper"),
    RELIABLE_ZK("reliable-zk", "reliable receiver + WAL, offsets to ZooKeeper"),
    RELIABLE_GROUP("reliable-group", "reliable receiver + WAL, offsets to Kafka group"),
    PLAIN("plain", "plain receiver, no WAL, offsets to Kafka group");

    private final String label;
    private final String description;

    Contender(String label, String description) {
      this.label = label;
      this.description = description;
    }

    boolean receiver() {
      return this != DIRECT;
    }

    boolean writesAhead() {
      return this == RELIABLE_ZK || this == RELIABLE_GROUP;
    }

    @Override
    public String toString() {
      return label;
    }
  }

  /** What to measure. */
  enum Mode {
    THROUGHPUT,
    LATENCY
  }

  private static final String TOPIC = "bench-receiver";

  @Option(
      names = "--modes",
      split = ",",
      converter = ModeConverter.class,
      description = "What to measure, from ${COMPLETION-CANDIDATES} (default: both).")
  Set<Mode> modes = EnumSet.allOf(Mode.class);

  @Option(
      names = "--contenders",
      split = ",",
      converter = ContenderConverter.class,
      description =
          "Throughput contenders: direct, reliable-zk, reliable-group, plain (default: all).")
  Set<Contender> contenders = EnumSet.allOf(Contender.class);

  @Option(names = "--records", description = "Records in the topic, default ${DEFAULT-VALUE}.")
  long records = 5_000_000;

  @Option(
      names = "--value-bytes",
      description = "Bytes per String value (>= 32), default ${DEFAULT-VALUE}.")
  int valueBytes = 100;

  @Option(names = "--partitions", description = "Topic partitions, default ${DEFAULT-VALUE}.")
  int partitions = 4;

  @Option(
      names = "--slots",
      description =
          "Task slots of every context (a receiver holds one of them), default ${DEFAULT-VALUE}.")
  int slots = 4;

  @Option(
      names = "--interval-ms",
      description = "Batch interval of the throughput passes, default ${DEFAULT-VALUE}.")
  int intervalMs = 200;

  @Option(
      names = "--max-poll-records",
      description =
          "max.poll.records of every consumer (0: Kafka's default, 500), default ${DEFAULT-VALUE}.")
  int maxPollRecords = 0;

  @Option(names = "--warmup", description = "Warm-up rounds, default ${DEFAULT-VALUE}.")
  int warmup = 1;

  @Option(names = "--passes", description = "Measured rounds, default ${DEFAULT-VALUE}.")
  int passes = 3;

  @Option(
      names = "--rate",
      description = "Latency: producer rate, records/s, default ${DEFAULT-VALUE}.")
  int rate = 50_000;

  @Option(
      names = "--intervals-ms",
      split = ",",
      description = "Latency: batch intervals in ms, default ${DEFAULT-VALUE}.")
  List<Integer> intervalsMs = List.of(500, 1000);

  @Option(
      names = "--latency-contenders",
      split = ",",
      converter = ContenderConverter.class,
      description = "Latency contenders (default: direct, reliable-zk).")
  Set<Contender> latencyContenders = EnumSet.of(Contender.DIRECT, Contender.RELIABLE_ZK);

  @Option(
      names = "--warmup-seconds",
      description = "Latency: unrecorded seconds per cell, default ${DEFAULT-VALUE}.")
  double warmupSeconds = 10;

  @Option(
      names = "--seconds",
      description = "Latency: recorded seconds per cell, default ${DEFAULT-VALUE}.")
  double seconds = 15;

  @Option(
      names = "--dir",
      description = "Checkpoint directories go under this (a real disk), default ${DEFAULT-VALUE}.")
  Path dir = Path.of("target", "receiver-bench");

  private final PrintStream out;
  private int runCounter;

  /** A bench printing to standard output. */
  public ReceiverBench() {
    this(System.out);
  }

  ReceiverBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. Exits with 0 on success. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new ReceiverBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (records < partitions
        || partitions <= 0
        || slots < 2
        || intervalMs <= 0
        || maxPollRecords < 0
        || passes <= 0
        || warmup < 0
        || valueBytes < 32
        || rate <= 0
        || intervalsMs.stream().anyMatch(i -> i <= 0)
        || warmupSeconds < 0
        || seconds <= 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "records >= partitions > 0, slots >= 2 (a receiver holds one), interval, passes, rate,"
              + " intervals and seconds > 0, warmup, warmup-seconds and max-poll-records >= 0,"
              + " value-bytes >= 32");
    }
    Files.createDirectories(dir);
    out.printf(
        Locale.ROOT,
        "ReceiverBench: %d partitions, %d slots for every contender (a receiver holds one:"
            + " its batches run on %d), max.poll.records %s, checkpoints under %s (%s), %s, %d"
            + " cpus, max heap %d MiB%n",
        partitions,
        slots,
        slots - 1,
        maxPollRecords > 0 ? maxPollRecords : "500 (Kafka's default)",
        dir.toAbsolutePath(),
        Files.getFileStore(dir).type(),
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    try (EmbeddedKafka kafka = EmbeddedKafka.startNew();
        EmbeddedZooKeeper zooKeeper = EmbeddedZooKeeper.startNew();
        OffsetStore zk = OffsetStores.zookeeper(zooKeeper.connectString())) {
      if (modes.contains(Mode.THROUGHPUT) && !contenders.isEmpty()) {
        throughput(kafka, zk);
      }
      if (modes.contains(Mode.LATENCY) && !latencyContenders.isEmpty()) {
        latency(kafka, zk);
      }
    }
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    return 0;
  }

  // ---------------------------------------------------------------- throughput

  private void throughput(EmbeddedKafka kafka, OffsetStore zk) throws Exception {
    out.printf(
        Locale.ROOT,
        "%nThroughput: %,d records of %d bytes, %d ms interval, map + count per batch,"
            + " %d warm-up + %d measured rounds%n",
        records,
        valueBytes,
        intervalMs,
        warmup,
        passes);
    kafka.createTopic(TOPIC, partitions);
    long t0 = System.nanoTime();
    BenchData.produce(kafka, TOPIC, partitions, records, valueBytes);
    out.printf(Locale.ROOT, "produced %,d records in %.1f s%n", records, Passes.secondsSince(t0));
    long total = kafka.endOffsets(TOPIC).values().stream().mapToLong(Long::longValue).sum();
    if (total != records) {
      throw new IllegalStateException("the topic holds " + total + " records, not " + records);
    }
    Map<String, Passes.Pass> passesByName = new LinkedHashMap<>();
    Map<String, List<Double>> afterFirst = new LinkedHashMap<>();
    for (Contender c : contenders) {
      List<Double> after = new ArrayList<>();
      afterFirst.put(c.description, after);
      passesByName.put(c.description, () -> throughputPass(kafka, zk, c, after));
    }
    Map<String, List<Double>> figures =
        Passes.interleaved(out, "records/s", warmup, passes, passesByName);
    out.println();
    out.printf(
        Locale.ROOT,
        "Throughput summary (records/s, median of %d; from start() | after the first batch with"
            + " records):%n",
        passes);
    List<Double> direct = figures.get(Contender.DIRECT.description);
    for (Contender c : contenders) {
      List<Double> f = figures.get(c.description);
      List<Double> after = afterFirst.get(c.description);
      String ratio =
          direct == null || c == Contender.DIRECT
              ? ""
              : String.format(
                  Locale.ROOT,
                  "  (%.2f x direct, median of per-round ratios %.2f)",
                  Passes.median(f) / Passes.median(direct),
                  Passes.medianRatio(f, direct));
      out.printf(
          Locale.ROOT,
          "  %-50s %12s | %12s%s%n",
          c.description,
          Passes.format(Passes.median(f)),
          Passes.format(Passes.median(after.subList(warmup, after.size()))),
          ratio);
    }
  }

  /**
   * One pass of {@code c} over the whole topic; returns records/s from {@code start()} and adds the
   * rate after the first batch with records to {@code afterFirst}.
   */
  private double throughputPass(
      EmbeddedKafka kafka, OffsetStore zk, Contender c, List<Double> afterFirst) throws Exception {
    String app = "rbench-" + c.label + "-" + (++runCounter);
    Path checkpoint = dir.resolve(app);
    StreamingContext ctx = context(app, Duration.ofMillis(intervalMs), checkpoint, c);
    Progress progress = new Progress(records);
    BatchStats stats = new BatchStats(ctx);
    input(ctx, kafka, zk, c, TOPIC, app)
        .map(ConsumerRecord::value)
        .foreachBatch((rdd, batch) -> progress.batch(rdd.count(), rdd.numPartitions()));
    long t0 = System.nanoTime();
    long stopNanos;
    try {
      ctx.start();
      awaitCounted(ctx, progress, Duration.ofMinutes(30));
    } finally {
      // Graceful: the receiver stops first, waiting for its consumer to commit and close, so no
      // consumer thread of this pass outlives it into the next.
      long s0 = System.nanoTime();
      ctx.stop(true);
      ctx.awaitTermination(Duration.ofMinutes(1));
      stopNanos = System.nanoTime() - s0;
      BenchData.deleteTree(checkpoint);
    }
    if (progress.counted.get() != records) {
      throw new IllegalStateException(
          c + " counted " + progress.counted.get() + " records, expected " + records);
    }
    double secs = (progress.doneNanos - t0) / 1e9;
    double firstMs = (progress.firstNanos - t0) / 1e6;
    double after =
        progress.firstRecords < records
            ? (records - progress.firstRecords) / ((progress.doneNanos - progress.firstNanos) / 1e9)
            : Double.NaN;
    afterFirst.add(after);
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last record; first batch with records done at %.0f ms (%,d records),"
            + " %s records/s after it; %s; %,d partitions%s, %,.0f records each; stop %.0f ms%n",
        secs,
        firstMs,
        progress.firstRecords,
        Double.isNaN(after) ? "n/a" : Passes.format(after),
        stats.describe(),
        progress.partitions.get(),
        c.receiver() ? " (blocks)" : "",
        (double) records / Math.max(1, progress.partitions.get()),
        stopNanos / 1e6);
    return records / secs;
  }

  /**
   * Waits until {@code progress} counted its target; fails when the context stops first (a failed
   * batch throws from {@code awaitTermination}) or after {@code timeout}.
   */
  private static void awaitCounted(StreamingContext ctx, Progress progress, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!progress.done.await(100, TimeUnit.MILLISECONDS)) {
      if (ctx.awaitTermination(Duration.ofMillis(1))) {
        throw new IllegalStateException(
            "the context stopped after " + progress.counted.get() + " records");
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "counted " + progress.counted.get() + " records after " + timeout);
      }
    }
  }

  /** What a throughput pass's job counted; written on the job thread, read after {@link #done}. */
  private static final class Progress {
    final long target;
    final AtomicLong counted = new AtomicLong();
    final AtomicLong partitions = new AtomicLong();
    final CountDownLatch done = new CountDownLatch(1);
    volatile long firstNanos;
    volatile long firstRecords;
    volatile long doneNanos;

    Progress(long target) {
      this.target = target;
    }

    /** One batch's count and partitions; on the job thread, one batch at a time. */
    void batch(long count, int batchPartitions) {
      if (count == 0) {
        return;
      }
      long now = System.nanoTime();
      long total = counted.addAndGet(count);
      partitions.addAndGet(batchPartitions);
      if (firstNanos == 0) {
        firstNanos = now;
        firstRecords = count;
      }
      if (total >= target && doneNanos == 0) {
        doneNanos = now;
        done.countDown();
      }
    }
  }

  // ---------------------------------------------------------------- latency

  private void latency(EmbeddedKafka kafka, OffsetStore zk) throws Exception {
    out.printf(
        Locale.ROOT,
        "%nLatency: %,d records/s, intervals %s ms, %.0f s warm-up + %.0f s recorded per cell,"
            + " %d-byte values%n",
        rate,
        intervalsMs,
        warmupSeconds,
        seconds,
        valueBytes);
    List<String> lines = new ArrayList<>();
    for (int interval : intervalsMs) {
      for (Contender c : latencyContenders) {
        String line = latencyCell(kafka, zk, c, interval);
        lines.add(line);
        out.println("  " + line + "  (load " + Passes.loadAverage() + ")");
      }
    }
    out.println();
    out.println(
        "Latency summary: contender, interval: p50 / p99 / p99.9 / max ms; p50 drift (second half"
            + " - first); records sent but not counted at the end; stable = drift < interval,"
            + " less than 2 intervals of input not counted, and the producer kept its rate");
    lines.forEach(l -> out.println("  " + l));
  }

  private String latencyCell(EmbeddedKafka kafka, OffsetStore zk, Contender c, int interval)
      throws Exception {
    int run = ++runCounter;
    String app = "rbench-latency-" + c.label + "-" + run;
    String topic = "bench-receiver-latency-" + run;
    Path checkpoint = dir.resolve(app);
    kafka.createTopic(topic, partitions);
    LatencyProbe probe = new LatencyProbe();
    ConcurrentLinkedQueue<long[]> batches = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong sent = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    StreamingContext ctx = context(app, Duration.ofMillis(interval), checkpoint, c);
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo b) {
            if (probe.recording) {
              batches.add(
                  new long[] {
                    b.schedulingDelay().orElseThrow().toNanos() / 1000,
                    b.processingTime().orElseThrow().toNanos() / 1000
                  });
            }
          }
        });
    input(ctx, kafka, zk, c, topic, app)
        .map(ConsumerRecord::value)
        .foreachBatch((rdd, batch) -> rdd.foreachPartition(probe::record));
    Thread producer =
        BenchData.daemon(
            "bench-receiver-producer",
            failure,
            () -> BenchData.producePaced(kafka, topic, partitions, rate, valueBytes, sent, stop));
    try {
      ctx.start();
      producer.start();
      LockSupport.parkNanos((long) (warmupSeconds * 1e9));
      long sent0 = sent.get();
      long t0 = System.nanoTime();
      probe.recording = true;
      LockSupport.parkNanos((long) (seconds * 1e9 / 2));
      probe.secondHalf = true;
      LockSupport.parkNanos((long) (seconds * 1e9 / 2));
      probe.recording = false;
      double achieved = (sent.get() - sent0) / Passes.secondsSince(t0);
      long backlog = sent.get() - probe.counted.get();
      stop.set(true);
      producer.join(10_000);
      if (failure.get() != null) {
        throw new IllegalStateException(c + " latency cell failed", failure.get());
      }
      LatencyBench.Cell cell =
          LatencyBench.cell(rate, interval, achieved, probe.all(), new ArrayList<>(batches));
      double drift = probe.p50DriftMs();
      double backlogSeconds = (double) backlog / rate;
      boolean stable =
          cell.records() > 0
              && drift < interval
              && backlogSeconds * 1000 < 2 * interval
              && achieved >= 0.95 * rate;
      return String.format(
          Locale.ROOT,
          "%-14s %5d ms: latency p50 %7.1f p99 %7.1f p99.9 %7.1f max %7.1f ms, p50 drift %+.1f"
              + " ms (%,d records, achieved %,.0f/s; %,d sent but not counted at the end: %.2f s"
              + " of input); %d batches,"
              + " processing p50 %.1f p99 %.1f ms; scheduling delay p99 %.1f max %.1f ms; %s",
          c.label,
          interval,
          cell.ms(cell.latencyMicros(), 50),
          cell.ms(cell.latencyMicros(), 99),
          cell.ms(cell.latencyMicros(), 99.9),
          cell.latencyMicros().getMaxValue() / 1e3,
          drift,
          cell.records(),
          achieved,
          backlog,
          backlogSeconds,
          cell.batches(),
          cell.ms(cell.processingMicros(), 50),
          cell.ms(cell.processingMicros(), 99),
          cell.ms(cell.delayMicros(), 99),
          cell.delayMicros().getMaxValue() / 1e3,
          stable ? "stable" : "NOT stable");
    } finally {
      stop.set(true);
      ctx.stop(true);
      ctx.awaitTermination(Duration.ofMinutes(1));
      BenchData.deleteTree(checkpoint);
      try (Admin admin = kafka.admin()) {
        admin.deleteTopics(List.of(topic)).all().get();
      }
    }
  }

  /**
   * Records, in the batches' tasks, now minus each value's send time: into the first or the second
   * half's histogram while recording is on. Any task thread; a partition records into its own
   * histogram and adds it under the lock.
   */
  private static final class LatencyProbe {
    private final Histogram first = new Histogram(3_600_000_000L, 3);
    private final Histogram second = new Histogram(3_600_000_000L, 3);
    final AtomicLong counted = new AtomicLong();
    volatile boolean recording;
    volatile boolean secondHalf;

    void record(Iterator<String> values) {
      Histogram local = new Histogram(3_600_000_000L, 3);
      long n = 0;
      boolean on = recording;
      while (values.hasNext()) {
        String v = values.next();
        n++;
        if (on) {
          local.recordValue(Math.max(0, (System.nanoTime() - BenchData.sentNanos(v)) / 1000));
        }
      }
      counted.addAndGet(n);
      if (on) {
        Histogram into = secondHalf ? second : first;
        synchronized (this) {
          into.add(local);
        }
      }
    }

    synchronized Histogram all() {
      Histogram h = first.copy();
      h.add(second);
      return h;
    }

    /** p50 of the second half minus p50 of the first, ms; positive when latency grew. */
    synchronized double p50DriftMs() {
      if (first.getTotalCount() == 0 || second.getTotalCount() == 0) {
        return Double.NaN;
      }
      return (second.getValueAtPercentile(50) - first.getValueAtPercentile(50)) / 1e3;
    }
  }

  // ---------------------------------------------------------------- shared

  /**
   * A context on the system clock with {@code --slots} slots and a checkpoint directory; the
   * receiver write-ahead log on for the reliable contenders.
   */
  private StreamingContext context(String app, Duration interval, Path checkpoint, Contender c)
      throws IOException {
    BenchData.deleteTree(checkpoint);
    return StreamingContext.builder()
        .appName(app)
        .batchInterval(interval)
        .parallelism(slots)
        .checkpointDir(checkpoint)
        .receiverWriteAheadLog(c.writesAhead())
        .build();
  }

  /** {@code c}'s stream of {@code topic} as group {@code group}, from the earliest offsets. */
  private DStream<ConsumerRecord<String, String>> input(
      StreamingContext ctx,
      EmbeddedKafka kafka,
      OffsetStore zk,
      Contender c,
      String topic,
      String group) {
    Map<String, Object> params = BenchData.consumerConfig(kafka, group);
    if (maxPollRecords > 0) {
      params.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    }
    List<String> topics = List.of(topic);
    return switch (c) {
      case DIRECT ->
          KafkaDirect.<String, String>createDirectStream(
              ctx,
              ConsumerStrategies.subscribe(topics, params),
              DirectStreamOptions.builder()
                  .startingOffsets(StartingOffsets.earliest())
                  .offsetStore(zk)
                  .build());
      case RELIABLE_ZK ->
          KafkaReceivers.<String, String>reliable(
              ctx, topics, params, ReliableReceiverOptions.builder().offsetStore(zk).build());
      case RELIABLE_GROUP ->
          KafkaReceivers.<String, String>reliable(
              ctx, topics, params, ReliableReceiverOptions.defaults());
      case PLAIN -> KafkaReceivers.<String, String>create(ctx, topics, params);
    };
  }

  /** The batches of one context: count, with records, processing time, scheduling delay. */
  private static final class BatchStats {
    private final ConcurrentLinkedQueue<BatchInfo> completed = new ConcurrentLinkedQueue<>();

    BatchStats(StreamingContext ctx) {
      ctx.addStreamingListener(
          new StreamingListener() {
            @Override
            public void onBatchCompleted(BatchInfo batch) {
              completed.add(batch);
            }
          });
    }

    /** One line; call after the context terminated, when every event is delivered. */
    String describe() {
      Histogram processing = new Histogram(3);
      Histogram delay = new Histogram(3);
      long withRecords = 0;
      for (BatchInfo b : completed) {
        processing.recordValue(b.processingTime().orElseThrow().toNanos() / 1000);
        delay.recordValue(Math.max(0, b.schedulingDelay().orElseThrow().toNanos() / 1000));
        if (b.numRecords() > 0) {
          withRecords++;
        }
      }
      return String.format(
          Locale.ROOT,
          "%d batches (%d with records), processing p50 %.1f max %.1f ms, scheduling delay max"
              + " %.1f ms",
          processing.getTotalCount(),
          withRecords,
          processing.getValueAtPercentile(50) / 1e3,
          processing.getMaxValue() / 1e3,
          delay.getMaxValue() / 1e3);
    }
  }

  /** Accepts contender labels ({@code reliable-zk}) in any case. */
  static final class ContenderConverter implements CommandLine.ITypeConverter<Contender> {
    @Override
    public Contender convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      for (Contender c : Contender.values()) {
        if (c.label.equals(v)) {
          return c;
        }
      }
      throw new CommandLine.TypeConversionException(
          "'" + value + "' is none of direct, reliable-zk, reliable-group, plain");
    }
  }

  /** Accepts mode names in any case. */
  static final class ModeConverter implements CommandLine.ITypeConverter<Mode> {
    @Override
    public Mode convert(String value) {
      return Mode.valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
  }
}
