package io.sluice.bench;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test data and client settings shared by the Kafka benches. */
final class BenchData {

  private BenchData() {}

  /**
   * Writes {@code records} String values of {@code valueBytes} characters round-robin over the
   * topic's {@code partitions} (13 trailing digits make them distinct), with a batching producer
   * (large batches, linger, no compression, acks=1, no idempotence) so loading the data takes
   * seconds, not minutes. Blocks until everything is sent; the readers' exact counts catch a lost
   * send.
   */
  static void produce(
      EmbeddedKafka kafka, String topic, int partitions, long records, int valueBytes) {
    Map<String, Object> config = new HashMap<>(kafka.producerConfig());
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    config.put(ProducerConfig.ACKS_CONFIG, "1");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    if (valueBytes < 16) {
      throw new IllegalArgumentException("valueBytes must be >= 16, was " + valueBytes);
    }
    String prefix = "v".repeat(valueBytes - 13);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      for (long i = 0; i < records; i++) {
        // Distinct values of exactly valueBytes characters, so a transform has something to do.
        String value = prefix + (1_000_000_000_000L + i);
        producer.send(new ProducerRecord<>(topic, (int) (i % partitions), null, value));
      }
      producer.flush();
    }
  }

  /**
   * Writes one record for each key {@code k0 .. k<keys - 1>} (the keys of {@link
   * io.sluice.examples.NumberedProducer}'s keyed mode), each to the partition Kafka's default
   * partitioner picks for its key, with the batching producer of {@link #produce}. Blocks until
   * everything is acknowledged; throws when a send failed.
   */
  static void produceKeys(EmbeddedKafka kafka, String topic, long keys) {
    Map<String, Object> config = new HashMap<>(kafka.producerConfig());
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    AtomicReference<Exception> failed = new AtomicReference<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      for (long i = 0; i < keys; i++) {
        producer.send(
            new ProducerRecord<>(topic, "k" + i, "load" + i),
            (md, e) -> {
              if (e != null) {
                failed.compareAndSet(null, e);
              }
            });
      }
      producer.flush();
    }
    if (failed.get() != null) {
      throw new IllegalStateException("cannot load the keys into " + topic, failed.get());
    }
  }

  /**
   * Sends String values to {@code topic} at {@code rate} records/s, round-robin over its {@code
   * partitions}, until {@code stop} is set: record {@code i} is due {@code i / rate} s after the
   * start, and the calling thread parks while it is ahead. Each value starts with its send time
   * ({@link System#nanoTime()}, read by {@link #sentNanos}), then {@code '|'} and padding to {@code
   * valueBytes} (at least 32) characters. {@code sent} holds the records handed to the producer
   * (linger.ms 1, acks=1, no idempotence).
   */
  static void producePaced(
      EmbeddedKafka kafka,
      String topic,
      int partitions,
      int rate,
      int valueBytes,
      AtomicLong sent,
      AtomicBoolean stop) {
    Map<String, Object> config = new HashMap<>(kafka.producerConfig());
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
    config.put(ProducerConfig.ACKS_CONFIG, "1");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    String padding = "p".repeat(valueBytes - 21);
    double nanosPerRecord = 1e9 / rate;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      long start = System.nanoTime();
      long i = 0;
      while (!stop.get()) {
        long due = start + (long) (i * nanosPerRecord);
        long now = System.nanoTime();
        if (due - now > 50_000) {
          LockSupport.parkNanos(due - now);
          continue;
        }
        producer.send(
            new ProducerRecord<>(
                topic, (int) (i % partitions), null, System.nanoTime() + "|" + padding));
        i++;
        sent.lazySet(i);
      }
    }
  }

  /** The send time {@link #producePaced} stamped at the start of {@code value}. */
  static long sentNanos(String value) {
    return Long.parseLong(value, 0, value.indexOf('|'), 10);
  }

  /**
   * A daemon thread running {@code body} that leaves its uncaught exception, if it is the first, in
   * {@code failure}.
   */
  static Thread daemon(String name, AtomicReference<Throwable> failure, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.setUncaughtExceptionHandler((th, e) -> failure.compareAndSet(null, e));
    return t;
  }

  /** A consumer configuration with String deserializers, reading from the earliest offset. */
  static Map<String, Object> consumerConfig(EmbeddedKafka kafka, String groupId) {
    Map<String, Object> params = new HashMap<>(kafka.consumerConfig(groupId));
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", StringDeserializer.class);
    return params;
  }

  /**
   * Wall-clock times of a run's batches, in microseconds (among them the processing times of the
   * batches with records, summed: Spark's measure), the process CPU time from the first batch's
   * start to the end of the last batch with records, and the seconds from start to the last batch's
   * end.
   */
  record BatchTimes(
      long batches,
      long dataBatches,
      long firstMicros,
      Histogram processing,
      long dataProcessingMicros,
      long batchCpuNanos,
      Histogram gaps,
      long startMicros,
      long stopMicros,
      double secondsToLastBatch) {
    /**
     * One line: start-up (start() to the first batch's start), batch count (with records), the
     * first batch's processing time, processing time sum/p50/max, the gap between batches p50/max,
     * and the stop (last batch's end to termination).
     */
    String describe() {
      return String.format(
          Locale.ROOT,
          "start %.0f ms; %d batches (%d with records), first %.1f ms, processing sum %.0f ms,"
              + " p50 %.1f ms, max %.1f ms; gap between batches p50 %.2f ms, max %.2f ms;"
              + " stop %.0f ms",
          startMicros / 1e3,
          batches,
          dataBatches,
          firstMicros / 1e3,
          sum(processing) / 1e3,
          processing.getValueAtPercentile(50) / 1e3,
          processing.getMaxValue() / 1e3,
          gaps.getValueAtPercentile(50) / 1e3,
          gaps.getMaxValue() / 1e3,
          stopMicros / 1e3);
    }

    private static double sum(Histogram h) {
      return h.getMean() * h.getTotalCount();
    }
  }

  /**
   * Starts {@code ctx} on {@code clock}, runs its first batch, advances the clock by {@code
   * interval} every time a batch completes (so batches run back to back, as fast as they complete),
   * and waits until the context stops by itself (a bounded input reached its end). Returns the
   * batches' wall-clock times, including the time from {@code start()} to the end of the last
   * batch, which is what the benches divide by: the stop that follows (closing consumers, which
   * waits out an in-flight long-poll fetch of up to {@code fetch.max.wait.ms}) is reported apart,
   * as the raw readers' {@code close()} is.
   *
   * <p>With {@code ahead > 0} the clock is instead set {@code ahead} intervals forward at once, so
   * the batches are queued up front and run back to back without waiting for the listener (whose
   * events arrive on another thread, a few ms after the batch completes): a backlog.
   *
   * @throws IllegalStateException if the context has not stopped after 10 minutes
   */
  static BatchTimes runUntilStopped(StreamingContext ctx, ManualClock clock, Duration interval)
      throws InterruptedException {
    return runUntilStopped(ctx, clock, interval, 0);
  }

  /**
   * Like {@link #runUntilStopped(StreamingContext, ManualClock, Duration)}, the clock set {@code
   * ahead} intervals forward at once when {@code ahead > 0}; with a null {@code clock}, the
   * context's own clock (the system's) paces the batches, one per {@code interval}.
   */
  static BatchTimes runUntilStopped(
      StreamingContext ctx, ManualClock clock, Duration interval, int ahead)
      throws InterruptedException {
    Histogram processing = new Histogram(3);
    Histogram gaps = new Histogram(3);
    long[] firstStartAndLastEnd = new long[2];
    long[] firstAndData = {-1, 0};
    long[] dataProcessing = new long[1];
    // process CPU at the first batch's start and at the end of the last batch with records
    long[] cpu = {-1, -1};
    ctx.addStreamingListener(
        new StreamingListener() {
          // By batch id: a batch's commit may overlap the next batch's jobs, so the next batch
          // can start before this one is reported completed.
          private final Map<Long, Long> started = new HashMap<>();
          private final Map<Long, Long> completedAt = new HashMap<>();

          @Override
          public void onBatchStarted(BatchInfo batch) {
            long now = System.nanoTime();
            started.put(batch.batchId(), now);
            if (firstStartAndLastEnd[0] == 0) {
              firstStartAndLastEnd[0] = now;
              cpu[0] = Passes.processCpuNanos();
            } else {
              // 0 when it started before the previous batch was reported completed
              Long previous = completedAt.get(batch.batchId() - 1);
              gaps.recordValue(previous == null ? 0 : Math.max(0, now - previous) / 1000);
            }
          }

          @Override
          public void onBatchCompleted(BatchInfo batch) {
            long completed = System.nanoTime();
            completedAt.put(batch.batchId(), completed);
            firstStartAndLastEnd[1] = completed;
            long took = (completed - started.remove(batch.batchId())) / 1000;
            processing.recordValue(took);
            if (firstAndData[0] < 0) {
              firstAndData[0] = took;
            }
            if (batch.numRecords() > 0) {
              firstAndData[1]++;
              dataProcessing[0] += took;
              cpu[1] = Passes.processCpuNanos();
            }
            if (ahead <= 0 && clock != null) {
              clock.advance(interval);
            }
          }
        });
    long t0 = System.nanoTime();
    ctx.start();
    if (clock != null) {
      clock.advance(ahead <= 0 ? interval : interval.multipliedBy(ahead));
    }
    if (!ctx.awaitTermination(Duration.ofMinutes(10))) {
      ctx.stop(false);
      throw new IllegalStateException(
          "the bounded stream did not stop by itself within 10 minutes");
    }
    long end = System.nanoTime();
    // The listener ran on the scheduler thread; awaitTermination returning orders its writes before
    // here.
    return new BatchTimes(
        processing.getTotalCount(),
        firstAndData[1],
        firstAndData[0],
        processing,
        dataProcessing[0],
        cpu[1] < 0 ? 0 : cpu[1] - cpu[0],
        gaps,
        (firstStartAndLastEnd[0] - t0) / 1000,
        (end - firstStartAndLastEnd[1]) / 1000,
        (firstStartAndLastEnd[1] - t0) / 1e9);
  }

  /** Deletes {@code root} and everything under it; nothing when it does not exist. */
  static void deleteTree(java.nio.file.Path root) {
    if (!java.nio.file.Files.exists(root)) {
      return;
    }
    try (java.util.stream.Stream<java.nio.file.Path> paths = java.nio.file.Files.walk(root)) {
      for (java.nio.file.Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(p);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot delete " + root, e);
    }
  }
}
