package io.sluice.examples;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends {@code r000000000}, {@code r000000001}, ... at a steady rate, paced by a scheduled thread
 * that owns the producer until {@link #stop()}: round-robin over a topic's partitions with the
 * value as key, or keyed by {@code k<i % keys>} through Kafka's default partitioner (each key in
 * one partition).
 */
public final class NumberedProducer implements AutoCloseable {

  private static final long TICK_MILLIS = 20;

  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final int partitions;
  private final long keys;
  private final double rate;
  private final ScheduledExecutorService pacer;
  private final AtomicReference<Exception> error = new AtomicReference<>();
  private final long startNanos = System.nanoTime();
  private long sent;
  private boolean stopped;

  /** Sends round-robin over {@code partitions}, each record keyed by its value. */
  public NumberedProducer(String bootstrap, String topic, int partitions, double rate) {
    this(bootstrap, topic, partitions, rate, 0);
  }

  /**
   * Sends record {@code i} with key {@code k<i % keys>} to the partition Kafka's default
   * partitioner picks for it; with {@code keys} 0, round-robin over {@code partitions} keyed by the
   * value.
   */
  public NumberedProducer(String bootstrap, String topic, int partitions, double rate, long keys) {
    if (keys < 0) {
      throw new IllegalArgumentException("keys must be >= 0, was " + keys);
    }
    this.topic = topic;
    this.partitions = partitions;
    this.keys = keys;
    this.rate = rate;
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.LINGER_MS_CONFIG,
                5),
            new StringSerializer(),
            new StringSerializer());
    this.pacer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "scale-out-generator");
              t.setDaemon(true);
              t.setUncaughtExceptionHandler((th, e) -> error.compareAndSet(null, new Exception(e)));
              return t;
            });
    pacer.scheduleAtFixedRate(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** The value of record {@code i}. */
  public static String value(long i) {
    return String.format("r%09d", i);
  }

  /** On the pacer thread: sends what the rate allows since the start. */
  private void tick() {
    long due = (long) ((System.nanoTime() - startNanos) / 1e9 * rate);
    for (; sent < due; sent++) {
      String v = value(sent);
      producer.send(
          keys == 0
              ? new ProducerRecord<>(topic, (int) (sent % partitions), v, v)
              : new ProducerRecord<>(topic, "k" + (sent % keys), v),
          (md, e) -> {
            if (e != null) {
              error.compareAndSet(null, e);
            }
          });
    }
  }

  /**
   * Stops sending, waits until every record is acknowledged and returns how many were sent.
   *
   * @throws IllegalStateException when a send failed
   */
  public long stop() throws InterruptedException {
    if (!stopped) {
      stopped = true;
      pacer.shutdown();
      if (!pacer.awaitTermination(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the generator did not stop within 30 s");
      }
      producer.flush();
    }
    if (error.get() != null) {
      throw new IllegalStateException("the generator failed to send: " + error.get());
    }
    return sent;
  }

  /** Stops the pacer and closes the producer. Idempotent. */
  @Override
  public void close() {
    pacer.shutdownNow();
    producer.close(Duration.ofSeconds(5));
  }
}
