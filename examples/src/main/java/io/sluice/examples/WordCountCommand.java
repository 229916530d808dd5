package io.sluice.examples;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.KafkaDirect;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * Spark Streaming's classic: words of a topic's lines, counted per batch and over a sliding window.
 */
@Command(
    name = "wordcount",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Word count, Spark Streaming's classic: lines from a Kafka topic, words counted per batch",
      "(reduceByKey) and over a sliding window (reduceByKeyAndWindow with an inverse function), print()ed."
    })
public final class WordCountCommand implements Callable<Integer> {

  /** The sample text written to the topic before the stream starts, {@code --repeat} times. */
  static final List<String> SAMPLE =
      List.of(
          "the quick brown fox jumps over the lazy dog",
          "to be or not to be",
          "the fox and the dog");

  @ParentCommand private Examples parent;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--topic",
      defaultValue = "lines",
      description = "Topic of text lines (default: ${DEFAULT-VALUE}).")
  private String topic;

  @Option(
      names = "--group",
      defaultValue = "wordcount",
      description = "Consumer group (default: ${DEFAULT-VALUE}).")
  private String group;

  @Option(
      names = "--repeat",
      defaultValue = "100",
      description =
          "Copies of the sample text written before the stream starts (default: ${DEFAULT-VALUE}).")
  private int repeat;

  @Option(
      names = "--rate",
      defaultValue = "5",
      description =
          "Sample lines per second written while the stream runs; 0 for none (default: ${DEFAULT-VALUE}).")
  private double rate;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long the stream runs (default: ${DEFAULT-VALUE}).")
  private Duration duration;

  @Option(
      names = "--batch-interval",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description = "Batch interval (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--window",
      defaultValue = "6s",
      converter = DurationConverter.class,
      description = "Window length, a multiple of the batch interval (default: ${DEFAULT-VALUE}).")
  private Duration window;

  @Option(
      names = "--slide",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description = "Window slide, a multiple of the batch interval (default: ${DEFAULT-VALUE}).")
  private Duration slide;

  /** Used by picocli. */
  public WordCountCommand() {}

  @Override
  public Integer call() throws Exception {
    PrintStream out = parent.out();
    Check.banner(
        out,
        "Sluice word count",
        "lines      topic '"
            + topic
            + "': the sample text x "
            + repeat
            + ", then "
            + (long) rate
            + " lines/s",
        "per batch  flatMap(words) -> mapToPair(w, 1) -> reduceByKey(+)            -> print()   (word,count)",
        "windowed   reduceByKeyAndWindow(+, -, "
            + Check.format(window)
            + ", "
            + Check.format(slide)
            + ")           -> print()   window (word,count)");
    try (Servers servers = new Servers(serverOptions, out)) {
      String bootstrap = servers.bootstrapServers();
      servers.createTopic(topic, 2);
      try (KafkaProducer<String, String> producer = producer(bootstrap)) {
        for (int i = 0; i < repeat; i++) {
          for (String line : SAMPLE) {
            producer.send(new ProducerRecord<>(topic, line));
          }
        }
        producer.flush();
      }
      StreamingContext ctx =
          StreamingContext.builder()
              .appName("wordcount")
              .batchInterval(batchInterval)
              .parallelism(2)
              .build();
      DStream<ConsumerRecord<String, String>> lines =
          KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(
                  List.of(topic),
                  Map.of(
                      "bootstrap.servers",
                      bootstrap,
                      "group.id",
                      group,
                      "key.deserializer",
                      StringDeserializer.class,
                      "value.deserializer",
                      StringDeserializer.class)));
      PairDStream<String, Long> ones =
          lines
              .flatMap(
                  r -> Arrays.asList(r.value().toLowerCase(Locale.ROOT).split("\\W+")).iterator())
              .filter(w -> !w.isEmpty())
              .mapToPair(w -> KV.of(w, 1L));
      sorted(ones.reduceByKey(Long::sum), "").print(20, out);
      sorted(ones.reduceByKeyAndWindow(Long::sum, (a, b) -> a - b, window, slide), "window ")
          .print(20, out);

      ctx.start();
      AtomicBoolean writing = new AtomicBoolean(true);
      Thread writer = rate > 0 ? lineWriter(bootstrap, writing) : null;
      try {
        if (ctx.awaitTermination(duration)) {
          return 1;
        }
      } finally {
        if (writer != null) {
          writing.set(false);
          writer.join();
        }
        ctx.stop(true);
      }
      ctx.awaitTermination();
      out.println("word count stopped after " + Check.format(duration));
      return 0;
    }
  }

  /** Counts as {@code (word,count)} lines, highest count first, then by word. */
  private static DStream<String> sorted(PairDStream<String, Long> counts, String prefix) {
    return counts.transform(
        rdd ->
            rdd.coalesce(1)
                .mapPartitions(
                    it -> {
                      List<KV<String, Long>> all = new ArrayList<>();
                      it.forEachRemaining(all::add);
                      all.sort(
                          Comparator.comparing((KV<String, Long> kv) -> -kv.value())
                              .thenComparing(KV::key));
                      return all.stream()
                          .map(kv -> prefix + "(" + kv.key() + "," + kv.value() + ")")
                          .iterator();
                    }));
  }

  private static KafkaProducer<String, String> producer(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(),
        new StringSerializer());
  }

  /** Writes sample lines at {@code --rate} while {@code writing}. */
  private Thread lineWriter(String bootstrap, AtomicBoolean writing) {
    Thread t =
        new Thread(
            () -> {
              try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                long periodNanos = (long) (TimeUnit.SECONDS.toNanos(1) / rate);
                int i = 0;
                while (writing.get()) {
                  producer.send(new ProducerRecord<>(topic, SAMPLE.get(i++ % SAMPLE.size())));
                  // Pacing the writer, not waiting for a condition.
                  LockSupport.parkNanos(periodNanos);
                }
              }
            },
            "wordcount-lines");
    t.setDaemon(true);
    t.setUncaughtExceptionHandler((th, e) -> System.err.println(th.getName() + " failed: " + e));
    t.start();
    return t;
  }
}
