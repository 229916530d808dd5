package io.sluice.examples;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import io.sluice.sinks.KafkaSink;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** Exactly-once transform between two topics through the transactional Kafka sink. */
@Command(
    name = "kafka-to-kafka",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Exactly-once Kafka -> Kafka: orders are parsed (malformed -> dead-letter topic), voided ones dropped,",
      "the rest cleaned and written to the output topic by the transactional KafkaSink, which commits the",
      "batch's input offsets in the same Kafka transaction. A read_committed consumer then checks that the",
      "output holds every cleaned input order exactly once."
    })
public final class KafkaToKafkaCommand implements Callable<Integer> {

  @ParentCommand private Examples parent;

  @Mixin private ServerOptions serverOptions = new ServerOptions();

  @Option(
      names = "--input",
      defaultValue = "orders",
      description = "Input topic (default: ${DEFAULT-VALUE}).")
  private String input;

  @Option(
      names = "--output",
      defaultValue = "orders-clean",
      description = "Output topic (default: ${DEFAULT-VALUE}).")
  private String output;

  @Option(
      names = "--group",
      defaultValue = "orders-clean",
      description =
          "Consumer group whose offsets the transactions commit (default: ${DEFAULT-VALUE}).")
  private String group;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long the generator runs (default: ${DEFAULT-VALUE}).")
  private Duration duration;

  @Option(
      names = "--rate",
      defaultValue = "2000",
      description = "Orders per second (default: ${DEFAULT-VALUE}).")
  private double rate;

  @Option(
      names = "--malformed-percent",
      defaultValue = "1",
      description = "Share of malformed orders in percent (default: ${DEFAULT-VALUE}).")
  private double malformedPercent;

  @Option(
      names = "--batch-interval",
      defaultValue = "500ms",
      converter = DurationConverter.class,
      description = "Batch interval (default: ${DEFAULT-VALUE}).")
  private Duration batchInterval;

  @Option(
      names = "--drain-timeout",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description =
          "How long to wait for the pipeline to catch up after the generator stops (default: ${DEFAULT-VALUE}).")
  private Duration drainTimeout;

  @Option(
      names = "--seed",
      defaultValue = "7",
      description = "Random seed of the generator (default: ${DEFAULT-VALUE}).")
  private long seed;

  /** Used by picocli. */
  public KafkaToKafkaCommand() {}

  /** The transform: product upper-cased, cents as a decimal amount. Deterministic. */
  static String clean(Order o) {
    return String.format(
        Locale.ROOT,
        "{\"id\":\"%s\",\"product\":\"%s\",\"amount\":\"%d.%02d\"}",
        o.id(),
        o.product().toUpperCase(Locale.ROOT),
        o.cents() / 100,
        o.cents() % 100);
  }

  @Override
  public Integer call() throws Exception {
    PrintStream out = parent.out();
    String dlq = input + "-dlq";
    Check.banner(
        out,
        "Sluice Kafka -> Kafka, exactly-once",
        "generator  -> topic '"
            + input
            + "', "
            + (long) rate
            + " orders/s for "
            + Check.format(duration),
        "pipeline   parse (malformed -> '" + dlq + "') -> filter cents > 0 -> clean",
        "           -> KafkaSink: records to '"
            + output
            + "' + offsets of group '"
            + group
            + "' in ONE Kafka transaction",
        "verify     read_committed output == cleaned input, each order exactly once");
    try (Servers servers = new Servers(serverOptions, out)) {
      String bootstrap = servers.bootstrapServers();
      servers.createTopic(input, 4);
      servers.createTopic(output, 4);
      servers.createTopic(dlq, 1);
      Map<TopicPartition, Long> inputStart = servers.endOffsets(input);
      Map<TopicPartition, Long> outputStart = servers.endOffsets(output);
      Map<TopicPartition, Long> dlqStart = servers.endOffsets(dlq);
      Map<String, Object> client = Map.of("bootstrap.servers", bootstrap);
      Path checkpointDir = Check.tempDir("sluice-orders-clean-");
      long t0 = System.nanoTime();
      OrderGenerator generator = null;
      StreamingContext ctx = null;
      try (OffsetStore store = OffsetStores.kafka(client)) {
        OrdersRun.requireNewGroup(store, group);
        ctx =
            StreamingContext.builder()
                .appName("orders-clean")
                .batchInterval(batchInterval)
                .parallelism(4)
                .checkpointDir(checkpointDir)
                .exactlyOnce(true)
                .build();
        OrderGenerator[] gen = new OrderGenerator[1];
        Progress progress =
            new Progress(
                "orders-clean", out, () -> gen[0] == null ? Map.of() : gen[0].endOffsets());
        DStream<ConsumerRecord<String, Order>> orders =
            progress.track(
                OrdersPipeline.orders(
                    ctx,
                    bootstrap,
                    input,
                    group,
                    dlq,
                    StartingOffsets.specific(inputStart),
                    store,
                    50_000));
        orders
            .map(ConsumerRecord::value)
            .filter(o -> o.cents() > 0)
            .writeTo(
                KafkaSink.<Order>builder()
                    .producerConfig(
                        Map.of(
                            "bootstrap.servers", bootstrap,
                            "key.serializer", StringSerializer.class,
                            "value.serializer", StringSerializer.class))
                    .record(o -> new ProducerRecord<>(output, o.id(), clean(o)))
                    .name("clean")
                    .exactlyOnce()
                    .build());
        ctx.addStreamingListener(progress);
        ctx.start();
        generator =
            new OrderGenerator(bootstrap, input, rate, malformedPercent, Long.MAX_VALUE, seed);
        gen[0] = generator;
        if (ctx.awaitTermination(duration)) {
          throw new IllegalStateException("the context stopped before the end of the run");
        }
        generator.close();
        Map<TopicPartition, Long> end = new HashMap<>(inputStart);
        generator.endOffsets().forEach((tp, o) -> end.merge(tp, o, Math::max));
        out.printf(
            "generator stopped after %,d orders; draining to %s ...%n",
            generator.totals().records(), end);
        OrdersRun.drain(ctx, progress, inputStart, end, drainTimeout);
        ctx.stop(true);
        ctx.awaitTermination();
        out.printf(
            "%nstopped after %d batches in %.1f s%n",
            progress.batches(), (System.nanoTime() - t0) / 1e9);
        return verify(out, servers, inputStart, outputStart, dlqStart, dlq);
      } finally {
        if (generator != null) {
          generator.close();
        }
        if (ctx != null) {
          ctx.stop(false);
        }
        Check.deleteTree(checkpointDir);
      }
    }
  }

  private int verify(
      PrintStream out,
      Servers servers,
      Map<TopicPartition, Long> inputStart,
      Map<TopicPartition, Long> outputStart,
      Map<TopicPartition, Long> dlqStart,
      String dlq) {
    Map<String, String> expected = new HashMap<>();
    long malformed = 0;
    long voided = 0;
    List<ConsumerRecord<String, String>> in = servers.readAll(input, inputStart, true);
    for (ConsumerRecord<String, String> r : in) {
      try {
        Order o = Order.parse(r.value().getBytes(StandardCharsets.UTF_8));
        if (o.cents() > 0) {
          expected.put(o.id(), clean(o));
        } else {
          voided++;
        }
      } catch (IllegalArgumentException e) {
        malformed++;
      }
    }
    Map<String, String> actual = new HashMap<>();
    long duplicates = 0;
    List<ConsumerRecord<String, String>> outRecords = servers.readAll(output, outputStart, true);
    for (ConsumerRecord<String, String> r : outRecords) {
      if (actual.put(r.key(), r.value()) != null) {
        duplicates++;
      }
    }
    long deadLetters = servers.readAll(dlq, dlqStart, false).size();
    long missing = expected.keySet().stream().filter(k -> !actual.containsKey(k)).count();
    long unexpected =
        actual.entrySet().stream()
            .filter(e -> !e.getValue().equals(expected.get(e.getKey())))
            .count();
    out.printf(
        "input %,d records (%,d malformed, %,d voided); output %,d records (read_committed)%n",
        in.size(), malformed, voided, outRecords.size());
    boolean pass =
        outRecords.size() == expected.size()
            && duplicates == 0
            && missing == 0
            && unexpected == 0
            && deadLetters == malformed;
    return Check.verdict(
        out,
        pass,
        String.format(
            "output %,d records %s %,d cleaned input orders (%d duplicates, %d missing, %d wrong); dead letters %,d %s"
                + " malformed %,d",
            outRecords.size(),
            outRecords.size() == expected.size() ? "==" : "!=",
            expected.size(),
            duplicates,
            missing,
            unexpected,
            deadLetters,
            deadLetters == malformed ? "==" : "!=",
            malformed));
  }
}
