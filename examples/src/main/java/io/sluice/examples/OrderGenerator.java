package io.sluice.examples;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces JSON {@link Order}s to a topic at a steady rate on its own thread ({@code
 * orders-generator}), about {@code malformedPercent} % of them malformed (poison pills) and about 1
 * % voided (zero or negative cents). Counts only what the broker acknowledged, so its {@link
 * #totals()} are exactly what the topic holds once {@link #close()} returned.
 */
public final class OrderGenerator implements AutoCloseable {

  /** The products orders are drawn from. */
  public static final List<String> PRODUCTS =
      List.of("apple", "banana", "cherry", "kiwi", "mango", "orange", "pear", "plum");

  private final String topic;
  private final double ratePerSecond;
  private final double malformedPercent;
  private final KafkaProducer<String, byte[]> producer;
  private final SplittableRandom random;
  private final Thread thread;
  private final Stats stats = new Stats();
  private final Map<TopicPartition, Long> endOffsets = new ConcurrentHashMap<>();
  private final AtomicReference<Exception> sendError = new AtomicReference<>();
  private final long maxRecords;
  private volatile boolean running = true;

  /**
   * Starts producing at once.
   *
   * @param bootstrapServers the brokers
   * @param topic the topic (must exist)
   * @param ratePerSecond records per second, > 0
   * @param malformedPercent share of malformed records in percent, 0..100
   * @param maxRecords stop after this many records (Long.MAX_VALUE: until closed)
   * @param seed random seed
   */
  public OrderGenerator(
      String bootstrapServers,
      String topic,
      double ratePerSecond,
      double malformedPercent,
      long maxRecords,
      long seed) {
    if (ratePerSecond <= 0) {
      throw new IllegalArgumentException("rate must be > 0, was " + ratePerSecond);
    }
    if (malformedPercent < 0 || malformedPercent > 100) {
      throw new IllegalArgumentException(
          "malformedPercent must be in [0, 100], was " + malformedPercent);
    }
    this.topic = topic;
    this.ratePerSecond = ratePerSecond;
    this.malformedPercent = malformedPercent;
    this.maxRecords = maxRecords;
    this.random = new SplittableRandom(seed);
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, "orders-generator-" + topic);
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    this.thread = new Thread(this::run, "orders-generator");
    this.thread.setDaemon(true);
    this.thread.setUncaughtExceptionHandler(
        (t, e) -> sendError.compareAndSet(null, new RuntimeException(e)));
    this.thread.start();
  }

  private void run() {
    long start = System.nanoTime();
    long sent = 0;
    while (running && sent < maxRecords) {
      long due =
          Math.min(maxRecords, (long) ((System.nanoTime() - start) / 1e9 * ratePerSecond) + 1);
      while (sent < due && running) {
        send(sent++);
      }
      // Pacing, not waiting for a condition: the next records are due a few milliseconds later.
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  private void send(long n) {
    String id = "o-" + n;
    String product = PRODUCTS.get(random.nextInt(PRODUCTS.size()));
    double dice = random.nextDouble() * 100;
    byte[] value;
    Order order = null;
    if (dice < malformedPercent) {
      value = malformed(id, product).getBytes(StandardCharsets.UTF_8);
    } else {
      long cents =
          dice < malformedPercent + 1 ? -random.nextLong(0, 500) : random.nextLong(100, 5_000);
      order = new Order(id, product, cents);
      value = order.toJson().getBytes(StandardCharsets.UTF_8);
    }
    Order sentOrder = order;
    String sentValue = new String(value, StandardCharsets.UTF_8);
    producer.send(
        new ProducerRecord<>(topic, id, value),
        (md, e) -> {
          if (e != null) {
            sendError.compareAndSet(null, e);
            return;
          }
          endOffsets.merge(
              new TopicPartition(md.topic(), md.partition()), md.offset() + 1, Math::max);
          stats.record(sentOrder, sentValue);
        });
  }

  private String malformed(String id, String product) {
    return switch (random.nextInt(4)) {
      case 0 -> "{\"id\":\"" + id + "\",\"product\":\"" + product + "\",\"cents\":"; // truncated
      case 1 -> "{\"id\":\"" + id + "\",\"product\":\"" + product + "\"}"; // no amount
      case 2 -> "{\"id\":\"" + id + "\",\"product\":\"" + product + "\",\"cents\":\"a lot\"}";
      default -> "order " + id + " for " + product; // not JSON
    };
  }

  /**
   * The end offset of each partition written so far (last acknowledged offset + 1). Thread-safe.
   */
  public Map<TopicPartition, Long> endOffsets() {
    return Map.copyOf(endOffsets);
  }

  /** A snapshot of what the broker acknowledged so far. Thread-safe. */
  public Totals totals() {
    return stats.snapshot();
  }

  /** Whether the generator has stopped by itself after {@code maxRecords}. */
  public boolean finished() {
    return !thread.isAlive();
  }

  /**
   * Stops producing, waits for every record in flight to be acknowledged and closes the producer.
   * Idempotent. Blocking.
   *
   * @throws IllegalStateException when a record could not be sent (the totals would be wrong)
   */
  @Override
  public void close() {
    running = false;
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.flush();
    producer.close(Duration.ofSeconds(10));
    Exception e = sendError.get();
    if (e != null) {
      throw new IllegalStateException("the generator failed to send an order: " + e, e);
    }
  }

  /**
   * What a generator produced.
   *
   * @param records records acknowledged
   * @param malformed malformed records among them
   * @param voided valid orders with cents &lt;= 0
   * @param revenue cents of valid orders with cents &gt; 0, per product (sorted)
   * @param malformedValues the malformed record values
   */
  public record Totals(
      long records,
      long malformed,
      long voided,
      Map<String, Long> revenue,
      Set<String> malformedValues) {

    /** The sum of {@link #revenue()}. */
    public long totalRevenue() {
      return revenue.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private static final class Stats {
    private long records;
    private long malformed;
    private long voided;
    private final Map<String, Long> revenue = new TreeMap<>();
    private final Set<String> malformedValues = new HashSet<>();

    synchronized void record(Order order, String value) {
      records++;
      if (order == null) {
        malformed++;
        malformedValues.add(value);
      } else if (order.cents() <= 0) {
        voided++;
      } else {
        revenue.merge(order.product(), order.cents(), Long::sum);
      }
    }

    synchronized Totals snapshot() {
      return new Totals(
          records, malformed, voided, new TreeMap<>(revenue), Set.copyOf(malformedValues));
    }
  }
}
