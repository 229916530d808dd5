package io.sluice.contenders.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.kafka010.ConsumerStrategies;
import org.apache.spark.streaming.kafka010.KafkaUtils;
import org.apache.spark.streaming.kafka010.LocationStrategies;
import org.apache.spark.streaming.scheduler.BatchInfo;
import org.apache.spark.streaming.scheduler.StreamingListener;
import org.apache.spark.streaming.scheduler.StreamingListenerBatchCompleted;
import org.apache.spark.streaming.scheduler.StreamingListenerBatchStarted;

/**
 * Spark Streaming's Kafka direct stream (DStreams, {@code spark-streaming-kafka-0-10}) on the data
 * of {@code KafkaReadBench}: topic {@code bench-read} read from offset 0 in about {@code
 * batches} batches ({@code spark.streaming.kafka.maxRatePerPartition}, 1 s interval) on {@code
 * local[slots]}, the same {@code map} → {@code filter} → {@code count}. A pass's rate is the
 * records over the sum of its batches' processing times (Spark's own {@code processingDelay}):
 * Spark's batches run at their 1 s wall-clock times, and the waits between them, its start and its
 * scheduling delays are left out in its favour. Also printed: the process CPU per record from the
 * first batch's start to the end of the last batch with records. Each pass is a new streaming context (and consumer
 * group) on the same Spark context; the first {@code warmup} passes are not counted.
 *
 * <p>Arguments: {@code records slots batches warmup passes}; the broker from {@code
 * BOOTSTRAP_SERVERS}.
 */
public final class SparkReadBench {

  private static final String TOPIC = "bench-read";
  private static final AtomicLong KEPT = new AtomicLong();

  private SparkReadBench() {}

  public static void main(String[] args) throws Exception {
    long records = Long.parseLong(args[0]);
    int slots = Integer.parseInt(args[1]);
    int batches = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int passes = Integer.parseInt(args[4]);
    String bootstrap = System.getenv("BOOTSTRAP_SERVERS");
    int partitions = 4;
    long perPartitionPerBatch = (records / partitions + batches - 1) / batches;
    SparkConf conf =
        new SparkConf()
            .setMaster("local[" + slots + "]")
            .setAppName("spark-read-bench")
            .set("spark.ui.enabled", "false")
            .set("spark.streaming.backpressure.enabled", "false")
            .set("spark.streaming.kafka.maxRatePerPartition", String.valueOf(perPartitionPerBatch));
    List<Double> rates = new ArrayList<>();
    List<Double> cpus = new ArrayList<>();
    try (JavaSparkContext sc = new JavaSparkContext(conf)) {
      sc.setLogLevel("WARN");
      for (int pass = 0; pass < warmup + passes; pass++) {
        double[] rateAndCpu = pass(sc, bootstrap, records, pass);
        System.out.printf(
            Locale.ROOT,
            "  spark pass %d %s %,.0f records/s, process cpu %.0f ns/record%n",
            pass,
            pass < warmup ? "warm-up " : "measured",
            rateAndCpu[0],
            rateAndCpu[1]);
        if (pass >= warmup) {
          rates.add(rateAndCpu[0]);
          cpus.add(rateAndCpu[1]);
        }
      }
    }
    Collections.sort(rates);
    Collections.sort(cpus);
    System.out.printf(
        Locale.ROOT,
        "Spark DStreams %s, local[%d]: median of %d warm passes %,.0f records/s, process cpu %.0f"
            + " ns/record%n",
        org.apache.spark.package$.MODULE$.SPARK_VERSION(),
        slots,
        passes,
        rates.get(rates.size() / 2),
        cpus.get(cpus.size() / 2));
  }

  /** One pass: its rate and its process CPU per record while its batches ran. */
  private static double[] pass(JavaSparkContext sc, String bootstrap, long records, int pass)
      throws Exception {
    KEPT.set(0);
    AtomicLong processingMs = new AtomicLong();
    AtomicLong batchRecords = new AtomicLong();
    AtomicLong firstCpu = new AtomicLong(-1);
    AtomicLong lastCpu = new AtomicLong(-1);
    JavaStreamingContext ssc = new JavaStreamingContext(sc, Durations.seconds(1));
    ssc.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchStarted(StreamingListenerBatchStarted started) {
            firstCpu.compareAndSet(-1, processCpuNanos());
          }

          @Override
          public void onBatchCompleted(StreamingListenerBatchCompleted completed) {
            BatchInfo info = completed.batchInfo();
            if (info.numRecords() > 0) {
              processingMs.addAndGet((Long) info.processingDelay().get());
              batchRecords.addAndGet(info.numRecords());
              lastCpu.set(processCpuNanos());
            }
          }
        });
    Map<String, Object> params = new HashMap<>();
    params.put("bootstrap.servers", bootstrap);
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", StringDeserializer.class);
    params.put("group.id", "spark-read-" + pass + "-" + System.nanoTime());
    params.put("auto.offset.reset", "earliest");
    params.put("enable.auto.commit", false);
    JavaInputDStream<ConsumerRecord<String, String>> stream =
        KafkaUtils.createDirectStream(
            ssc,
            LocationStrategies.PreferConsistent(),
            ConsumerStrategies.<String, String>Subscribe(List.of(TOPIC), params));
    stream
        .map(r -> transform(r.value()))
        .filter(SparkReadBench::keep)
        .foreachRDD(rdd -> KEPT.addAndGet(rdd.count()));
    ssc.start();
    long deadline = System.nanoTime() + 600_000_000_000L;
    while (batchRecords.get() < records && System.nanoTime() < deadline) {
      ssc.awaitTerminationOrTimeout(20);
    }
    ssc.stop(false, false);
    if (KEPT.get() != records || batchRecords.get() != records) {
      throw new IllegalStateException(
          "read " + KEPT.get() + " (" + batchRecords.get() + " in batches), expected " + records);
    }
    return new double[] {
      records / (processingMs.get() / 1000.0), (lastCpu.get() - firstCpu.get()) / (double) records
    };
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** KafkaReadBench's map: the first 8 characters reversed, then the rest, '|' and the length. */
  static String transform(String v) {
    int head = Math.min(8, v.length());
    StringBuilder b = new StringBuilder(v.length() + 5);
    for (int i = head - 1; i >= 0; i--) {
      b.append(v.charAt(i));
    }
    return b.append(v, head, v.length()).append('|').append(v.length()).toString();
  }

  /** KafkaReadBench's filter. */
  static boolean keep(String v) {
    return !v.isEmpty();
  }
}
