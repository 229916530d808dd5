package io.sluice.bench;

import io.sluice.testkit.EmbeddedKafka;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Starts a broker in a child JVM, fills topic {@code bench-read} as {@link KafkaReadBench} does,
 * then runs a command with {@code BOOTSTRAP_SERVERS} set to the broker's address and stops the
 * broker when the command ends. Readers on other class paths (Spark's and Flink's, see {@code
 * bench/contenders}) and {@code KafkaReadBench --bootstrap-servers} then read the same data from
 * the same broker, one after another; {@code bench/contenders/compare.sh} runs them so.
 */
@Command(
    name = "ContenderBroker",
    mixinStandardHelpOptions = true,
    description = "A forked broker holding KafkaReadBench's data, for readers in other JVMs.")
public final class ContenderBroker implements Callable<Integer> {

  @Option(names = "--records", description = "Records in the topic, default ${DEFAULT-VALUE}.")
  long records = 5_000_000;

  @Option(
      names = "--value-bytes",
      description = "Bytes per String value (>= 16), default ${DEFAULT-VALUE}.")
  int valueBytes = 100;

  @Option(names = "--partitions", description = "Topic partitions, default ${DEFAULT-VALUE}.")
  int partitions = 4;

  @Parameters(arity = "1..*", description = "The command to run while the broker is up.")
  List<String> command = new ArrayList<>();

  private final PrintStream out = System.out;

  /** Runs the command; exits with its exit code. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new ContenderBroker()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().forked().start()) {
      kafka.createTopic("bench-read", partitions);
      long t0 = System.nanoTime();
      BenchData.produce(kafka, "bench-read", partitions, records, valueBytes);
      out.printf(
          Locale.ROOT,
          "ContenderBroker: produced %,d records of %d bytes to %d partitions in %.1f s; broker at"
              + " %s%n",
          records,
          valueBytes,
          partitions,
          Passes.secondsSince(t0),
          kafka.bootstrapServers());
      ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
      pb.environment().put("BOOTSTRAP_SERVERS", kafka.bootstrapServers());
      Process p = pb.start();
      try {
        return p.waitFor();
      } finally {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
  }
}
