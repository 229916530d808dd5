package io.sluice.contenders.flink;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * Flink's Kafka source on the data of {@code KafkaReadBench}: topic {@code bench-read} from the
 * earliest to the latest offsets (bounded) at parallelism {@code slots} in a local mini-cluster,
 * the same {@code map} → {@code filter} → count. A pass's rate is the records over the time from
 * the first record entering {@code map} to the last one counted: the job's submission, deployment
 * and split discovery are left out in Flink's favour (the job's net runtime is printed too), as is
 * the process CPU per record over that time. Each
 * pass is a new job (and consumer group); the first {@code warmup} passes are not counted.
 *
 * <p>Arguments: {@code records slots warmup passes}; the broker from {@code BOOTSTRAP_SERVERS}.
 */
public final class FlinkReadBench {

  private static final String TOPIC = "bench-read";
  static final AtomicLong KEPT = new AtomicLong();
  static final LongAccumulator FIRST = new LongAccumulator(Math::min, Long.MAX_VALUE);
  static final LongAccumulator LAST = new LongAccumulator(Math::max, Long.MIN_VALUE);
  static final AtomicLong FIRST_CPU = new AtomicLong(-1);
  static final LongAccumulator LAST_CPU = new LongAccumulator(Math::max, Long.MIN_VALUE);

  private FlinkReadBench() {}

  public static void main(String[] args) throws Exception {
    long records = Long.parseLong(args[0]);
    int slots = Integer.parseInt(args[1]);
    int warmup = Integer.parseInt(args[2]);
    int passes = Integer.parseInt(args[3]);
    String bootstrap = System.getenv("BOOTSTRAP_SERVERS");
    List<Double> rates = new ArrayList<>();
    List<Double> cpus = new ArrayList<>();
    for (int pass = 0; pass < warmup + passes; pass++) {
      KEPT.set(0);
      FIRST.reset();
      LAST.reset();
      FIRST_CPU.set(-1);
      LAST_CPU.reset();
      StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(slots);
      KafkaSource<String> source =
          KafkaSource.<String>builder()
              .setBootstrapServers(bootstrap)
              .setTopics(TOPIC)
              .setGroupId("flink-read-" + pass + "-" + System.nanoTime())
              .setStartingOffsets(OffsetsInitializer.earliest())
              .setBounded(OffsetsInitializer.latest())
              .setValueOnlyDeserializer(new SimpleStringSchema())
              .build();
      env.fromSource(source, WatermarkStrategy.noWatermarks(), TOPIC)
          .map(new Transform())
          .filter(FlinkReadBench::keep)
          .map(new Count())
          .sinkTo(new DiscardingSink<>());
      JobExecutionResult result = env.execute("flink-read-bench");
      if (KEPT.get() != records) {
        throw new IllegalStateException("read " + KEPT.get() + ", expected " + records);
      }
      double seconds = (LAST.get() - FIRST.get()) / 1e9;
      double rate = records / seconds;
      double cpu = (LAST_CPU.get() - FIRST_CPU.get()) / (double) records;
      System.out.printf(
          Locale.ROOT,
          "  flink pass %d %s %,.0f records/s, process cpu %.0f ns/record (first to last record"
              + " %.2f s; job net runtime %d ms)%n",
          pass,
          pass < warmup ? "warm-up " : "measured",
          rate,
          cpu,
          seconds,
          result.getNetRuntime(TimeUnit.MILLISECONDS));
      if (pass >= warmup) {
        rates.add(rate);
        cpus.add(cpu);
      }
    }
    Collections.sort(rates);
    Collections.sort(cpus);
    System.out.printf(
        Locale.ROOT,
        "Flink %s, parallelism %d: median of %d warm passes %,.0f records/s, process cpu %.0f"
            + " ns/record%n",
        org.apache.flink.runtime.util.EnvironmentInformation.getVersion(),
        slots,
        passes,
        rates.get(rates.size() / 2),
        cpus.get(cpus.size() / 2));
  }

  /** KafkaReadBench's map, noting when the first record arrives. */
  static final class Transform implements MapFunction<String, String> {
    private boolean started;

    @Override
    public String map(String v) {
      if (!started) {
        started = true;
        FIRST.accumulate(System.nanoTime());
        FIRST_CPU.compareAndSet(-1, processCpuNanos());
      }
      int head = Math.min(8, v.length());
      StringBuilder b = new StringBuilder(v.length() + 5);
      for (int i = head - 1; i >= 0; i--) {
        b.append(v.charAt(i));
      }
      return b.append(v, head, v.length()).append('|').append(v.length()).toString();
    }
  }

  /**
   * Counts the kept records per subtask; at the end of its input (close) adds them up and notes the
   * time, so nothing is shared per record.
   */
  static final class Count extends RichMapFunction<String, String> {
    private long count;

    @Override
    public String map(String v) {
      count++;
      return v;
    }

    @Override
    public void close() {
      LAST.accumulate(System.nanoTime());
      LAST_CPU.accumulate(processCpuNanos());
      KEPT.addAndGet(count);
    }
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** KafkaReadBench's filter. */
  static boolean keep(String v) {
    return !v.isEmpty();
  }
}
