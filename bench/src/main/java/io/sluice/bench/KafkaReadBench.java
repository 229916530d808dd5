package io.sluice.bench;

import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Read throughput of Sluice's Kafka direct stream against the raw consumer limit, in one JVM, on
 * one embedded broker and the same data: a raw {@code KafkaConsumer} poll loop over every
 * partition, one raw consumer per partition each reading its pinned offset range on its own thread,
 * the same pinned-range consumers doing the job's work inline in their poll loops (the same-work
 * limit) and the same on {@code --slots} threads (the limit for Sluice's execution shape), and the
 * direct stream on {@code --slots} task slots, once with the job ({@code map} with {@link
 * #transform}, {@code filter}, {@code count}) and once with {@code count} alone. Each pass reads
 * the whole topic; figures are records/s, the median of {@code --passes} rounds after {@code
 * --warmup} rounds, where a round runs every reader once (interleaved, so load changes on the
 * machine hit them alike). The first round's figures are printed as cold ones; a reader's own first
 * pass in a fresh JVM is {@code --readers <reader> --warmup 0 --passes 1}.
 *
 * <p>The direct stream replays the topic as a bounded range ({@code StartingOffsets.bounded}), so a
 * pass stops by itself; {@code maxRatePerPartition} cuts it into about {@code --batches-per-pass}
 * batches. By default a manual clock is set past every batch at once, so they are all due and run
 * back to back, the next batch planned while the current one runs and a batch's commit overlapping
 * the next batch's jobs, as in a stream that fell behind; with {@code --no-backlog} the clock is
 * advanced only when a batch is reported completed, so nothing overlaps a batch boundary.
 *
 * <p>{@code limit_fetchers} is the same-work limit on {@code --slots} threads with each range's
 * consumer polled by a thread of its own that feeds the reading thread over a bounded queue (the
 * shape of Flink's source readers): it shows whether fetching ahead on more threads than slots
 * would lift a slot's rate. {@code --paced} runs the Sluice readers as Spark's direct stream runs
 * in {@code bench/contenders/compare.sh}, on the system clock, and takes Spark's measure. Each
 * Sluice pass also prints its process CPU per record from its first batch's start to its last one's
 * end, as Spark's and Flink's contenders do.
 *
 * <p>{@code --forked-broker} runs the broker in a child JVM, as a real deployment has it: the
 * readers' JVM then has no broker threads, allocations or collections, and its CPU per record is
 * the readers' own.
 */
@Command(
    name = "KafkaReadBench",
    mixinStandardHelpOptions = true,
    description =
        "Kafka read throughput: raw consumer, pinned-range consumers and Sluice's direct stream.")
public final class KafkaReadBench implements Callable<Integer> {

  /** The readers this bench can measure. */
  enum Reader {
    RAW,
    PINNED,
    PINNED_ON_SLOTS,
    LIMIT,
    LIMIT_ON_SLOTS,
    LIMIT_FETCHERS,
    SLUICE,
    SLUICE_COUNT,
    SLUICE_PIECES
  }

  private static final String TOPIC = "bench-read";
  private static final Duration INTERVAL = Duration.ofSeconds(1);

  /** Polls a {@code limit_fetchers} fetcher may hold for its reading thread. */
  private static final int FETCH_AHEAD_POLLS = 8;

  @Option(names = "--records", description = "Records in the topic, default ${DEFAULT-VALUE}.")
  long records = 5_000_000;

  @Option(
      names = "--value-bytes",
      description = "Bytes per String value (>= 16), default ${DEFAULT-VALUE}.")
  int valueBytes = 100;

  @Option(names = "--partitions", description = "Topic partitions, default ${DEFAULT-VALUE}.")
  int partitions = 4;

  @Option(names = "--slots", description = "Sluice task slots, default ${DEFAULT-VALUE}.")
  int slots = 2;

  @Option(
      names = "--batches-per-pass",
      description =
          "Sluice batches per pass (via maxRatePerPartition)," + " default ${DEFAULT-VALUE}.")
  int batchesPerPass = 4;

  @Option(
      names = "--backlog",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Queue every batch of a pass up front (the clock set ahead at once), as a stream that"
              + " fell behind does (the default). --no-backlog advances the clock only as each"
              + " batch is reported completed, so each batch is planned after the previous one"
              + " ended.")
  boolean backlog = true;

  @Option(names = "--warmup", description = "Warm-up passes per reader, default ${DEFAULT-VALUE}.")
  int warmup = 12;

  @Option(names = "--passes", description = "Measured passes per reader, default ${DEFAULT-VALUE}.")
  int passes = 5;

  @Option(
      names = "--readers",
      split = ",",
      converter = ReaderConverter.class,
      description = "Readers to measure, from ${COMPLETION-CANDIDATES} (default: all).")
  Set<Reader> readers = EnumSet.allOf(Reader.class);

  @Option(
      names = "--consumer-config",
      description =
          "A consumer setting for every reader, name=value (repeatable), e.g."
              + " max.partition.fetch.bytes=4194304.")
  Map<String, String> consumerConfig = new LinkedHashMap<>();

  @Option(
      names = "--bootstrap-servers",
      description =
          "Read topic bench-read of a running broker instead of starting one (ContenderBroker"
              + " starts and fills one, then runs Spark's and Flink's readers of bench/contenders"
              + " on it as well); --records must match what it holds.")
  String bootstrapServers;

  @Option(
      names = "--forked-broker",
      description =
          "Run the broker in a child JVM (EmbeddedKafka.builder().forked()): this JVM then holds the"
              + " readers alone, and its CPU per record is theirs.")
  boolean forkedBroker;

  @Option(
      names = "--paced",
      description =
          "Run the Sluice readers on the system clock, one batch a second, as Spark's direct stream"
              + " runs in bench/contenders/compare.sh, and take Spark's measure: records over the"
              + " sum of the processing times of the batches with records (the start, the waits"
              + " between batches and the stop left out). Overrides --backlog.")
  boolean paced;

  @Option(
      names = "--min-partitions",
      description =
          "DirectStreamOptions.minPartitions of the sluice_pieces reader (the job, each batch read"
              + " in at least this many pieces), default ${DEFAULT-VALUE}.")
  int minPartitions = 8;

  @Option(
      names = "--skip-bad-records",
      description =
          "Run the Sluice readers under ErrorPolicy.skip() instead of fail() (the data has no bad"
              + " record; this measures what the policy costs).")
  boolean skipBadRecords;

  private final PrintStream out;

  /** Per Sluice reader, each pass's process CPU per record while its batches ran. */
  private final Map<String, List<Double>> batchCpus = new LinkedHashMap<>();

  /** A bench printing to standard output. */
  public KafkaReadBench() {
    this(System.out);
  }

  KafkaReadBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. Exits with 0 on success. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new KafkaReadBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (records < partitions
        || partitions <= 0
        || slots <= 0
        || minPartitions <= 0
        || batchesPerPass <= 0
        || passes <= 0
        || warmup < 0
        || valueBytes < 16) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "records >= partitions > 0, slots, min-partitions,"
              + " batches-per-pass and passes > 0, warmup >= 0, value-bytes >= 16");
    }
    out.printf(
        Locale.ROOT,
        "KafkaReadBench: %,d records of %d bytes, %d partitions, %d slots, %d warm-up +"
            + " %d measured passes, %s, %d cpus, max heap %d MiB%n",
        records,
        valueBytes,
        partitions,
        slots,
        warmup,
        passes,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    out.println(
        "Sluice clock: "
            + (paced
                ? "the system's, one batch a second (--paced); Sluice's figures are records over"
                    + " the processing times of its batches with records (Spark's measure)"
                : backlog
                    ? "set past every batch at once (backlog)"
                    : "advanced per batch (--no-backlog)"));
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    if (bootstrapServers != null) {
      out.println(
          "broker: external, at " + bootstrapServers + " (topic " + TOPIC + " as filled before)");
      Map<String, Object> params = new HashMap<>();
      params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      params.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-read");
      params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
      params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
      Map<TopicPartition, Long> ends;
      try (KafkaConsumer<String, String> c = new KafkaConsumer<>(rawParams(params))) {
        ends =
            c.endOffsets(
                c.partitionsFor(TOPIC).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition()))
                    .toList());
      }
      measure(params, ends);
      return 0;
    }
    out.println("broker: " + (forkedBroker ? "in a child JVM" : "in this JVM"));
    try (EmbeddedKafka kafka =
        forkedBroker ? EmbeddedKafka.builder().forked().start() : EmbeddedKafka.startNew()) {
      kafka.createTopic(TOPIC, partitions);
      long t0 = System.nanoTime();
      BenchData.produce(kafka, TOPIC, partitions, records, valueBytes);
      out.printf(Locale.ROOT, "produced %,d records in %.1f s%n", records, Passes.secondsSince(t0));
      measure(BenchData.consumerConfig(kafka, "bench-read"), kafka.endOffsets(TOPIC));
    }
    return 0;
  }

  /** Runs the readers over {@code [0, end)} of every partition of {@code ends}, and prints. */
  private void measure(Map<String, Object> params, Map<TopicPartition, Long> ends)
      throws Exception {
    params.putAll(consumerConfig);
    String rawName = "raw consumer poll loop";
    String pinnedName = partitions + " pinned-range consumers";
    String slotsPinnedName = partitions + " pinned-range consumers on " + slots + " threads";
    String limitName = partitions + " pinned-range consumers, same work";
    String slotsLimitName =
        partitions + " pinned-range consumers on " + slots + " threads, same work";
    String fetchersName =
        partitions
            + " pinned-range consumers on "
            + slots
            + " threads, same work, each fetching on its own thread";
    String sluiceName = "sluice direct stream, " + slots + " slots";
    String countName = "sluice direct stream, count only, " + slots + " slots";
    String piecesName =
        "sluice direct stream, minPartitions " + minPartitions + ", " + slots + " slots";
    Map<String, Passes.Pass> contenders = new LinkedHashMap<>();
    if (readers.contains(Reader.RAW)) {
      contenders.put(rawName, () -> rate(rawPollLoop(params, ends)));
    }
    if (readers.contains(Reader.PINNED)) {
      contenders.put(
          pinnedName,
          () ->
              rate(
                  pinnedRanges(
                      ends, partitions, (tp, until) -> readRange(params, tp, until, false))));
    }
    if (readers.contains(Reader.PINNED_ON_SLOTS)) {
      contenders.put(
          slotsPinnedName,
          () ->
              rate(pinnedRanges(ends, slots, (tp, until) -> readRange(params, tp, until, false))));
    }
    if (readers.contains(Reader.LIMIT)) {
      contenders.put(
          limitName,
          () ->
              rate(
                  pinnedRanges(
                      ends, partitions, (tp, until) -> readRange(params, tp, until, true))));
    }
    if (readers.contains(Reader.LIMIT_ON_SLOTS)) {
      contenders.put(
          slotsLimitName,
          () -> rate(pinnedRanges(ends, slots, (tp, until) -> readRange(params, tp, until, true))));
    }
    if (readers.contains(Reader.LIMIT_FETCHERS)) {
      contenders.put(
          fetchersName,
          () -> rate(pinnedRanges(ends, slots, (tp, until) -> fetchAhead(params, tp, until))));
    }
    if (readers.contains(Reader.SLUICE)) {
      contenders.put(sluiceName, () -> directStream(sluiceName, params, ends, true, 1));
    }
    if (readers.contains(Reader.SLUICE_COUNT)) {
      contenders.put(countName, () -> directStream(countName, params, ends, false, 1));
    }
    if (readers.contains(Reader.SLUICE_PIECES)) {
      contenders.put(piecesName, () -> directStream(piecesName, params, ends, true, minPartitions));
    }
    Map<String, Double> cold = new HashMap<>();
    Map<String, List<Double>> cpu = new LinkedHashMap<>();
    contenders.replaceAll((name, pass) -> withCpu(cold, cpu, name, pass));
    Map<String, List<Double>> figures =
        Passes.interleaved(out, "records/s", warmup, passes, contenders);
    List<Double> none = List.of();
    List<Double> raw = figures.getOrDefault(rawName, none);
    List<Double> pinned = figures.getOrDefault(pinnedName, none);
    List<Double> slotsPinned = figures.getOrDefault(slotsPinnedName, none);
    List<Double> limit = figures.getOrDefault(limitName, none);
    List<Double> slotsLimit = figures.getOrDefault(slotsLimitName, none);
    List<Double> fetchers = figures.getOrDefault(fetchersName, none);
    List<Double> sluice = figures.getOrDefault(sluiceName, none);
    List<Double> count = figures.getOrDefault(countName, none);
    List<Double> pieces = figures.getOrDefault(piecesName, none);
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.printf(
        Locale.ROOT,
        "Summary (warm records/s, median of %d): raw %s | pinned-range %s | pinned-range on %d"
            + " threads %s | same-work limit %s | same-work limit on %d threads %s | sluice %s"
            + " | sluice count-only %s%n",
        passes,
        Passes.format(Passes.median(raw)),
        Passes.format(Passes.median(pinned)),
        slots,
        Passes.format(Passes.median(slotsPinned)),
        Passes.format(Passes.median(limit)),
        slots,
        Passes.format(Passes.median(slotsLimit)),
        Passes.format(Passes.median(sluice)),
        Passes.format(Passes.median(count)));
    out.printf(
        Locale.ROOT,
        "Cold (first round) records/s: raw %s | pinned-range %s | pinned-range on %d threads %s"
            + " | same-work limit %s | same-work limit on %d threads %s | sluice %s"
            + " | sluice count-only %s%n",
        Passes.format(cold.getOrDefault(rawName, Double.NaN)),
        Passes.format(cold.getOrDefault(pinnedName, Double.NaN)),
        slots,
        Passes.format(cold.getOrDefault(slotsPinnedName, Double.NaN)),
        Passes.format(cold.getOrDefault(limitName, Double.NaN)),
        slots,
        Passes.format(cold.getOrDefault(slotsLimitName, Double.NaN)),
        Passes.format(cold.getOrDefault(sluiceName, Double.NaN)),
        Passes.format(cold.getOrDefault(countName, Double.NaN)));
    out.println(
        "Process CPU per record ("
            + (forkedBroker ? "this JVM: the readers, not the broker" : "broker included")
            + "), median of the measured passes:");
    cpu.forEach(
        (name, list) ->
            out.printf(
                Locale.ROOT,
                "  %-52s %.0f ns/record%n",
                name,
                Passes.median(list.subList(Math.min(warmup, list.size()), list.size()))));
    batchCpus.forEach(
        (name, list) ->
            out.printf(
                Locale.ROOT,
                "  %-52s %.0f ns/record from its first batch's start to its last one's end%n",
                name,
                Passes.median(list.subList(Math.min(warmup, list.size()), list.size()))));
    ratio("sluice / same-work limit", sluice, limit, "(target >= 0.90)");
    ratio(
        "same-work limit on " + slots + " threads with fetcher threads / without",
        fetchers,
        slotsLimit,
        "");
    ratio("sluice / same-work limit on " + slots + " threads", sluice, slotsLimit, "");
    ratio("sluice / pinned-range", sluice, pinned, "");
    ratio("sluice count-only / pinned-range", count, pinned, "(target >= 0.95)");
    ratio("sluice count-only / pinned-range on " + slots + " threads", count, slotsPinned, "");
    ratio("sluice / raw", sluice, raw, "");
    ratio("sluice minPartitions " + minPartitions + " / same-work limit", pieces, limit, "");
    ratio(
        "sluice minPartitions " + minPartitions + " / same-work limit on " + slots + " threads",
        pieces,
        slotsLimit,
        "");
    ratio("sluice minPartitions " + minPartitions + " / sluice", pieces, sluice, "");
  }

  /** Prints {@code a / b} of the medians and the median of the per-round ratios. */
  private void ratio(String name, List<Double> a, List<Double> b, String target) {
    out.printf(
        Locale.ROOT,
        "%s = %.2f %s, median of per-round ratios %.2f%n",
        name,
        Passes.median(a) / Passes.median(b),
        target,
        Passes.medianRatio(a, b));
  }

  /**
   * {@code pass}, leaving its first figure in {@code first} and the process CPU time per record of
   * every pass in {@code cpu} (printed too): a figure that the machine's other load disturbs less
   * than the wall-clock rate. Also printed: the time the JIT compilers spent during the pass, which
   * shares the two cores with the readers: a pass is warm when it is small.
   */
  private Passes.Pass withCpu(
      Map<String, Double> first, Map<String, List<Double>> cpu, String name, Passes.Pass pass) {
    return () -> {
      long cpu0 = Passes.processCpuNanos();
      long jit0 = compilationMillis();
      double figure = pass.run();
      double perRecord = (Passes.processCpuNanos() - cpu0) / (double) records;
      out.printf(
          Locale.ROOT,
          "    process cpu %.0f ns/record, jit compiling %d ms%n",
          perRecord,
          compilationMillis() - jit0);
      first.putIfAbsent(name, figure);
      cpu.computeIfAbsent(name, k -> new ArrayList<>()).add(perRecord);
      return figure;
    };
  }

  /** The JIT compilers' accumulated time so far, or 0 where the JVM does not tell. */
  private static long compilationMillis() {
    java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported()
        ? jit.getTotalCompilationTime()
        : 0;
  }

  /**
   * The job's map: the first 8 characters reversed, then the rest, {@code '|'} and the length. Both
   * the direct stream and the same-work limit call it, so they do the same work per record.
   */
  static String transform(String v) {
    int head = Math.min(8, v.length());
    StringBuilder b = new StringBuilder(v.length() + 5);
    for (int i = head - 1; i >= 0; i--) {
      b.append(v.charAt(i));
    }
    return b.append(v, head, v.length()).append('|').append(v.length()).toString();
  }

  /** The job's filter: keeps every value the bench writes, yet has to look at it. */
  static boolean keep(String v) {
    return !v.isEmpty();
  }

  private double rate(Timed timed) {
    check(timed.count);
    out.printf(
        Locale.ROOT,
        "    read in %.2f s, then slowest consumer close %.0f ms%n",
        timed.seconds,
        timed.closeNanos / 1e6);
    return timed.count / timed.seconds;
  }

  /**
   * A raw pass: records kept, seconds from the start to the last record read (consumer creation
   * included, close excluded, as Sluice's stop is), and the slowest {@code KafkaConsumer.close()}.
   */
  private record Timed(long count, double seconds, long closeNanos) {}

  /**
   * Records a range reader kept, when it had read its range (nanoTime), and how long its close
   * took.
   */
  private record Read(long kept, long doneNanos, long closeNanos) {}

  /**
   * Closes without waiting for an in-flight fetch (up to {@code fetch.max.wait.ms}), as Sluice's
   * task consumers do: none of these consumers commits, and a thread reading several ranges in turn
   * would otherwise wait that long before its next range.
   */
  private static long closeTimed(KafkaConsumer<?, ?> consumer) {
    long t0 = System.nanoTime();
    consumer.close(CloseOptions.timeout(Duration.ZERO));
    return System.nanoTime() - t0;
  }

  private void check(long count) {
    if (count != records) {
      throw new IllegalStateException("read " + count + " records, expected " + records);
    }
  }

  private static Map<String, Object> rawParams(Map<String, Object> params) {
    Map<String, Object> c = new HashMap<>(params);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    return c;
  }

  /**
   * One consumer, every partition, poll until everything is read. Connection set-up is timed too.
   */
  private static Timed rawPollLoop(Map<String, Object> params, Map<TopicPartition, Long> ends) {
    long t0 = System.nanoTime();
    long total = ends.values().stream().mapToLong(Long::longValue).sum();
    long read = 0;
    long kept = 0;
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(rawParams(params));
    long closeNanos;
    try {
      consumer.assign(ends.keySet());
      consumer.seekToBeginning(ends.keySet());
      while (read < total) {
        ConsumerRecords<String, String> batch = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<String, String> r : batch) {
          read++;
          if (!r.value().isEmpty()) {
            kept++;
          }
        }
      }
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
    double seconds = Passes.secondsSince(t0);
    closeNanos = closeTimed(consumer);
    return new Timed(kept, seconds, closeNanos);
  }

  /** Reads {@code [0, until)} of one partition with its own consumer. */
  @FunctionalInterface
  private interface RangeRead {
    Read read(TopicPartition tp, long until) throws Exception;
  }

  /**
   * Every partition's {@code [0, end)} read by {@code read}, on {@code threads} threads (one per
   * partition, or fewer, which take the next partition as they finish, as task slots take tasks).
   */
  private static Timed pinnedRanges(Map<TopicPartition, Long> ends, int threads, RangeRead read)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      long t0 = System.nanoTime();
      List<Future<Read>> parts = new ArrayList<>();
      for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
        parts.add(pool.submit(() -> read.read(e.getKey(), e.getValue())));
      }
      long total = 0;
      long lastDone = t0;
      long slowestClose = 0;
      for (Future<Read> f : parts) {
        total += f.get().kept();
        lastDone = Math.max(lastDone, f.get().doneNanos());
        slowestClose = Math.max(slowestClose, f.get().closeNanos());
      }
      return new Timed(total, (lastDone - t0) / 1e9, slowestClose);
    } finally {
      pool.shutdown();
    }
  }

  /**
   * {@code [0, until)} of {@code tp} read by position with one consumer; with {@code work}, the
   * job's {@link #transform} and {@link #keep} applied inline, counting what it keeps.
   */
  private static Read readRange(
      Map<String, Object> params, TopicPartition tp, long until, boolean work) {
    long kept = 0;
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(rawParams(params));
    long closeNanos;
    try {
      consumer.assign(List.of(tp));
      consumer.seek(tp, 0);
      while (consumer.position(tp) < until) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200)).records(tp)) {
          if (r.offset() < until && (work ? keep(transform(r.value())) : keep(r.value()))) {
            kept++;
          }
        }
      }
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
    long readNanos = System.nanoTime();
    closeNanos = closeTimed(consumer);
    return new Read(kept, readNanos, closeNanos);
  }

  /**
   * {@code [0, until)} of {@code tp} with the job's work, as {@link #readRange} does, but polled by
   * a thread of its own that hands each poll's records over a queue of up to {@link
   * #FETCH_AHEAD_POLLS} polls, so that the consumer always has its next fetch in flight while the
   * reading thread works (the shape of Flink's source readers, whose fetcher threads feed a task).
   */
  private static Read fetchAhead(Map<String, Object> params, TopicPartition tp, long until)
      throws Exception {
    BlockingQueue<List<ConsumerRecord<String, String>>> polls =
        new ArrayBlockingQueue<>(FETCH_AHEAD_POLLS);
    AtomicLong closeNanos = new AtomicLong();
    ExecutorService fetcher = Executors.newSingleThreadExecutor();
    try {
      Future<?> fetching =
          fetcher.submit(
              () -> {
                KafkaConsumer<String, String> consumer = new KafkaConsumer<>(rawParams(params));
                try {
                  consumer.assign(List.of(tp));
                  consumer.seek(tp, 0);
                  while (consumer.position(tp) < until) {
                    List<ConsumerRecord<String, String>> records =
                        consumer.poll(Duration.ofMillis(200)).records(tp);
                    if (!records.isEmpty()) {
                      polls.put(records);
                    }
                  }
                  polls.put(List.of());
                } finally {
                  closeNanos.set(closeTimed(consumer));
                }
                return null;
              });
      long kept = 0;
      for (List<ConsumerRecord<String, String>> records = take(polls, fetching, tp);
          !records.isEmpty();
          records = take(polls, fetching, tp)) {
        for (ConsumerRecord<String, String> r : records) {
          if (r.offset() < until && keep(transform(r.value()))) {
            kept++;
          }
        }
      }
      long readNanos = System.nanoTime();
      fetching.get();
      return new Read(kept, readNanos, closeNanos.get());
    } finally {
      fetcher.shutdownNow();
    }
  }

  /** The next poll from {@code polls}; fails with the fetcher's failure if it ended by one. */
  private static List<ConsumerRecord<String, String>> take(
      BlockingQueue<List<ConsumerRecord<String, String>>> polls,
      Future<?> fetching,
      TopicPartition tp)
      throws Exception {
    while (true) {
      List<ConsumerRecord<String, String>> records = polls.poll(100, TimeUnit.MILLISECONDS);
      if (records != null) {
        return records;
      }
      if (fetching.isDone()) {
        fetching.get();
        throw new IllegalStateException("the fetcher of " + tp + " ended without its end mark");
      }
    }
  }

  /**
   * The direct stream over [0, end) of every partition, {@code map(transform)}, {@code
   * filter(keep)}, {@code count} (only {@code count} without {@code work}), each batch read in at
   * least {@code minPartitions} pieces; stops by itself at the end.
   */
  private double directStream(
      String name,
      Map<String, Object> params,
      Map<TopicPartition, Long> ends,
      boolean work,
      int minPartitions)
      throws Exception {
    List<OffsetRange> ranges = new ArrayList<>();
    long maxLag = 0;
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      ranges.add(OffsetRange.of(e.getKey(), 0, e.getValue()));
      maxLag = Math.max(maxLag, e.getValue());
    }
    long perPartitionPerBatch = Math.max(1, (maxLag + batchesPerPass - 1) / batchesPerPass);
    ManualClock clock = new ManualClock();
    StreamingContext.Builder builder =
        StreamingContext.builder()
            .appName("kafka-read-bench")
            .batchInterval(INTERVAL)
            .parallelism(slots);
    StreamingContext ctx = paced ? builder.build() : builder.clock(clock).build();
    AtomicLong kept = new AtomicLong();
    DStream<ConsumerRecord<String, String>> stream =
        KafkaDirect.<String, String>createDirectStream(
            ctx,
            ConsumerStrategies.subscribe(List.of(TOPIC), params),
            DirectStreamOptions.builder()
                .startingOffsets(StartingOffsets.bounded(ranges))
                .maxRatePerPartition(perPartitionPerBatch * 1000 / INTERVAL.toMillis())
                .onBadRecord(skipBadRecords ? ErrorPolicy.skip() : ErrorPolicy.fail())
                .minPartitions(minPartitions)
                .build());
    if (work) {
      stream
          .map(r -> transform(r.value()))
          .filter(KafkaReadBench::keep)
          .foreachBatch((rdd, batch) -> kept.addAndGet(rdd.count()));
    } else {
      stream.foreachBatch((rdd, batch) -> kept.addAndGet(rdd.count()));
    }
    long t0 = System.nanoTime();
    BenchData.BatchTimes times =
        paced
            ? BenchData.runUntilStopped(ctx, null, INTERVAL, 0)
            : BenchData.runUntilStopped(ctx, clock, INTERVAL, backlog ? batchesPerPass + 1 : 0);
    double seconds = paced ? times.dataProcessingMicros() / 1e6 : times.secondsToLastBatch();
    out.printf(
        Locale.ROOT,
        "    %.2f s %s (stopped after %.2f s): %s%n",
        seconds,
        paced ? "of processing in batches with records" : "to the last batch's end",
        Passes.secondsSince(t0),
        times.describe());
    check(kept.get());
    double batchCpu = times.batchCpuNanos() / (double) records;
    out.printf(
        Locale.ROOT,
        "    process cpu from the first batch's start to the last batch's end %.0f ns/record%n",
        batchCpu);
    batchCpus.computeIfAbsent(name, k -> new ArrayList<>()).add(batchCpu);
    return kept.get() / seconds;
  }

  /** Accepts reader names in any case. */
  static final class ReaderConverter implements CommandLine.ITypeConverter<Reader> {
    @Override
    public Reader convert(String value) {
      return Reader.valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
  }
}
