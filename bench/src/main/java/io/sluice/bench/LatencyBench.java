package io.sluice.bench;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.StartingOffsets;
import io.sluice.sinks.KafkaSink;
import io.sluice.testkit.EmbeddedKafka;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * End-to-end latency of Sluice's exactly-once Kafka → Kafka path on the system clock: a producer
 * thread writes at a fixed rate, each value carrying its send time ({@link System#nanoTime()}); a
 * direct stream at a batch interval copies the values through the exactly-once {@link KafkaSink}; a
 * {@code read_committed} consumer records, for every output record, now minus the source send time
 * into an HdrHistogram. One cell per (rate, interval), each on fresh topics: {@code
 * --warmup-seconds} unrecorded, then {@code --seconds} recorded. Per cell: latency
 * p50/p99/p99.9/max, the batches' scheduling delay (p50, p99, max, and its drift: mean of the last
 * quarter of the recorded batches minus the first quarter) and processing time. A cell is
 * <em>stable</em> when the drift stays below one interval and the producer kept its rate; the
 * target is p99 &lt;= 2 x interval + 20 ms.
 */
@Command(
    name = "LatencyBench",
    mixinStandardHelpOptions = true,
    description = "End-to-end latency, rate-paced producer -> Sluice EOS KafkaSink -> consumer.")
public final class LatencyBench implements Callable<Integer> {

  @Option(
      names = "--rates",
      split = ",",
      description = "Producer rates, records/s, default ${DEFAULT-VALUE}.")
  List<Integer> rates = List.of(50_000, 200_000);

  @Option(
      names = "--intervals-ms",
      split = ",",
      description = "Batch intervals in ms, default ${DEFAULT-VALUE}.")
  List<Integer> intervalsMs = List.of(10, 20, 50, 100);

  @Option(
      names = "--warmup-seconds",
      description = "Unrecorded seconds per cell, default ${DEFAULT-VALUE}.")
  double warmupSeconds = 5;

  @Option(names = "--seconds", description = "Recorded seconds per cell, default ${DEFAULT-VALUE}.")
  double seconds = 12;

  @Option(names = "--partitions", description = "Topic partitions, default ${DEFAULT-VALUE}.")
  int partitions = 4;

  @Option(names = "--slots", description = "Sluice task slots, default ${DEFAULT-VALUE}.")
  int slots = 4;

  @Option(
      names = "--value-bytes",
      description = "Bytes per value (>= 32), default ${DEFAULT-VALUE}.")
  int valueBytes = 100;

  @Option(
      names = "--linger-ms",
      description = "linger.ms of the sink's producer, default ${DEFAULT-VALUE}.")
  int lingerMs = 5;

  private final PrintStream out;
  private int cellCounter;

  /** A bench printing to standard output. */
  public LatencyBench() {
    this(System.out);
  }

  LatencyBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. Exits with 0 on success. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new LatencyBench()).execute(args));
  }

  /** One cell's figures; latencies and delays in ms. */
  record Cell(
      int rate,
      int intervalMs,
      double achievedRate,
      long records,
      Histogram latencyMicros,
      Histogram delayMicros,
      Histogram processingMicros,
      double driftMs,
      long batches) {

    double ms(Histogram h, double percentile) {
      return h.getValueAtPercentile(percentile) / 1e3;
    }

    boolean stable() {
      return records > 0 && driftMs < intervalMs && achievedRate >= 0.95 * rate;
    }

    boolean targetMet() {
      return records > 0 && ms(latencyMicros, 99) <= 2.0 * intervalMs + 20;
    }
  }

  @Override
  public Integer call() throws Exception {
    if (rates.isEmpty()
        || intervalsMs.isEmpty()
        || rates.stream().anyMatch(r -> r <= 0)
        || intervalsMs.stream().anyMatch(i -> i <= 0)
        || warmupSeconds < 0
        || seconds <= 0
        || partitions <= 0
        || slots <= 0
        || valueBytes < 32
        || lingerMs < 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "rates, intervals, seconds, partitions and slots must be > 0, warmup and linger >= 0,"
              + " value-bytes >= 32");
    }
    out.printf(
        Locale.ROOT,
        "LatencyBench: rates %s records/s, intervals %s ms, %.0f s warm-up + %.0f s recorded per"
            + " cell, %d partitions, %d slots, %d-byte values, sink linger.ms %d, %s, %d cpus%n",
        rates,
        intervalsMs,
        warmupSeconds,
        seconds,
        partitions,
        slots,
        valueBytes,
        lingerMs,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors());
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    List<Cell> cells = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.startNew()) {
      for (int rate : rates) {
        for (int interval : intervalsMs) {
          Cell c = runCell(kafka, rate, interval);
          cells.add(c);
          out.println("  " + line(c) + "  (load " + Passes.loadAverage() + ")");
        }
      }
    }
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.println(
        "Summary: rate/s, interval ms: latency p50 / p99 / p99.9 / max ms; scheduling delay p99,"
            + " drift ms; stable; target p99 <= 2 x interval + 20 ms");
    for (Cell c : cells) {
      out.println("  " + line(c));
    }
    for (int rate : rates) {
      String smallest =
          cells.stream()
              .filter(c -> c.rate() == rate && c.stable())
              .mapToInt(Cell::intervalMs)
              .min()
              .stream()
              .mapToObj(i -> i + " ms")
              .findFirst()
              .orElse("none");
      out.printf(Locale.ROOT, "smallest stable interval at %,d records/s: %s%n", rate, smallest);
    }
    return 0;
  }

  private static String line(Cell c) {
    return String.format(
        Locale.ROOT,
        "%,9d/s %4d ms: latency p50 %7.1f p99 %7.1f p99.9 %7.1f max %7.1f ms (%,d records,"
            + " achieved %,.0f/s); %d batches, processing p50 %.1f p99 %.1f ms; scheduling delay"
            + " p50 %.1f p99 %.1f max %.1f ms, drift %+.1f ms; %s; target %s",
        c.rate(),
        c.intervalMs(),
        c.ms(c.latencyMicros(), 50),
        c.ms(c.latencyMicros(), 99),
        c.ms(c.latencyMicros(), 99.9),
        c.latencyMicros().getMaxValue() / 1e3,
        c.records(),
        c.achievedRate(),
        c.batches(),
        c.ms(c.processingMicros(), 50),
        c.ms(c.processingMicros(), 99),
        c.ms(c.delayMicros(), 50),
        c.ms(c.delayMicros(), 99),
        c.delayMicros().getMaxValue() / 1e3,
        c.driftMs(),
        c.stable() ? "stable" : "NOT stable",
        c.targetMet() ? "met" : "missed");
  }

  // ---------------------------------------------------------------- one cell

  private Cell runCell(EmbeddedKafka kafka, int rate, int intervalMs) throws Exception {
    int cell = ++cellCounter;
    String in = "bench-latency-in-" + cell;
    String outTopic = "bench-latency-out-" + cell;
    kafka.createTopic(in, partitions);
    kafka.createTopic(outTopic, partitions);
    Histogram latency = new Histogram(3_600_000_000L, 3);
    AtomicBoolean recording = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ConcurrentLinkedQueue<long[]> batches = new ConcurrentLinkedQueue<>();

    StreamingContext ctx =
        StreamingContext.builder()
            .appName("bench-latency-" + cell)
            .batchInterval(Duration.ofMillis(intervalMs))
            .parallelism(slots)
            .build();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo b) {
            if (recording.get()) {
              batches.add(
                  new long[] {
                    b.schedulingDelay().orElseThrow().toNanos() / 1000,
                    b.processingTime().orElseThrow().toNanos() / 1000
                  });
            }
          }
        });
    KafkaDirect.<String, String>createDirectStream(
            ctx,
            ConsumerStrategies.subscribe(
                List.of(in), BenchData.consumerConfig(kafka, "bench-latency-" + cell)),
            DirectStreamOptions.builder().startingOffsets(StartingOffsets.earliest()).build())
        .map(r -> r.value())
        .writeTo(
            KafkaSink.<String>builder()
                .producerConfig(sinkProducerConfig(kafka))
                .record(v -> new ProducerRecord<>(outTopic, v))
                .exactlyOnce()
                .build());

    Thread consumer =
        BenchData.daemon(
            "bench-latency-consumer",
            failure,
            () -> consume(kafka, outTopic, latency, recording, stop));
    AtomicLong sent = new AtomicLong();
    long[] recordedWindow = new long[2];
    Thread producer =
        BenchData.daemon(
            "bench-latency-producer",
            failure,
            () -> BenchData.producePaced(kafka, in, partitions, rate, valueBytes, sent, stop));
    ctx.start();
    consumer.start();
    producer.start();
    try {
      LockSupport.parkNanos((long) (warmupSeconds * 1e9));
      recordedWindow[0] = sent.get();
      long t0 = System.nanoTime();
      recording.set(true);
      LockSupport.parkNanos((long) (seconds * 1e9));
      recording.set(false);
      recordedWindow[1] = sent.get();
      double achieved = (recordedWindow[1] - recordedWindow[0]) / Passes.secondsSince(t0);
      stop.set(true);
      producer.join(10_000);
      consumer.join(10_000);
      if (failure.get() != null) {
        throw new IllegalStateException("cell " + cell + " failed", failure.get());
      }
      return cell(rate, intervalMs, achieved, latency, new ArrayList<>(batches));
    } finally {
      stop.set(true);
      ctx.stop(false);
      ctx.awaitTermination(Duration.ofSeconds(30));
      try (Admin admin = kafka.admin()) {
        admin.deleteTopics(List.of(in, outTopic)).all().get();
      }
    }
  }

  /**
   * A cell's figures from its latencies and its recorded batches' {scheduling delay, processing
   * time} in microseconds, in completion order.
   */
  static Cell cell(
      int rate, int intervalMs, double achieved, Histogram latency, List<long[]> batches) {
    Histogram delay = new Histogram(3);
    Histogram processing = new Histogram(3);
    for (long[] b : batches) {
      delay.recordValue(Math.max(0, b[0]));
      processing.recordValue(Math.max(0, b[1]));
    }
    int q = Math.max(1, batches.size() / 4);
    double first = 0;
    double last = 0;
    for (int i = 0; i < q && i < batches.size(); i++) {
      first += batches.get(i)[0];
      last += batches.get(batches.size() - 1 - i)[0];
    }
    double drift = (last - first) / q / 1e3;
    return new Cell(
        rate,
        intervalMs,
        achieved,
        latency.getTotalCount(),
        latency,
        delay,
        processing,
        drift,
        batches.size());
  }

  private Map<String, Object> sinkProducerConfig(EmbeddedKafka kafka) {
    Map<String, Object> c = new HashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    c.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
    c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    return c;
  }

  /** Reads the output with {@code read_committed}; records each latency while recording is on. */
  private void consume(
      EmbeddedKafka kafka,
      String topic,
      Histogram latency,
      AtomicBoolean recording,
      AtomicBoolean stop) {
    Map<String, Object> cc = BenchData.consumerConfig(kafka, "bench-latency-reader");
    cc.remove(ConsumerConfig.GROUP_ID_CONFIG);
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cc.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cc)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      while (!stop.get()) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(20))) {
          long now = System.nanoTime();
          if (recording.get()) {
            latency.recordValue(Math.max(0, (now - BenchData.sentNanos(r.value())) / 1000));
          }
        }
      }
    }
  }
}
