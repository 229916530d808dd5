package io.sluice.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Where the threads of a bench waited: reads a JDK Flight Recorder file recorded with {@code
 * bench/jfr/waits.jfc} (parks, monitor waits and enters, sleeps, socket reads and fsyncs of 1 ms or
 * more, with stacks) and sums the waits per thread group and phase of the exactly-once path (the
 * job thread's flush, offset fence, {@code sendOffsetsToTransaction} and commit; the tasks' reads
 * and sends) and of the Kafka receivers' loop (store to the write-ahead log and the block tracker,
 * commit to the offset store or the group, poll), optionally per batch. Waits shorter than the
 * recording's 1 ms threshold are not counted.
 */
@Command(
    name = "WaitSummary",
    mixinStandardHelpOptions = true,
    description = "Sums a JFR recording's thread waits per phase of the exactly-once path.")
public final class WaitSummary implements Callable<Integer> {

  /** A phase: the stack must hold every one of {@code frames} (Class.method, simple names). */
  private record Rule(String label, List<String> frames) {}

  private static final List<Rule> RULES =
      List.of(
          rule(
              "sluice commit: flush (acks of the batch's sends)",
              "TransactionalProducer.flushSends"),
          rule(
              "sluice commit: fence (2 x listConsumerGroupOffsets)",
              "KafkaGroupOffsets.readStable"),
          rule(
              "sluice commit: sendOffsetsToTransaction",
              "TransactionalProducer.commit",
              "KafkaProducer.sendOffsetsToTransaction"),
          rule(
              "sluice commit: commitTransaction",
              "TransactionalProducer.commit",
              "KafkaProducer.commitTransaction"),
          rule("sluice: beginTransaction", "TransactionalProducer.begin"),
          rule("initTransactions", "KafkaProducer.initTransactions"),
          rule("sluice job: waiting for its tasks (read + send)", "TaskScheduler.awaitTasks"),
          rule("sluice job: waiting for the job", "JobScheduler.runJobs"),
          rule("engine: waiting for the batch time", "JobGenerator.awaitBatchTime"),
          rule("producer send: accumulator lock", "RecordAccumulator.append"),
          rule("producer send: buffer memory", "BufferPool.allocate"),
          rule("producer send: other", "KafkaProducer.doSend"),
          rule("sluice task: fetch (PartitionReader)", "PartitionReader.poll"),
          rule("hand loop: flush", "HandKafkaLoop.commit", "KafkaProducer.flush"),
          rule(
              "hand loop: fence (2 x listConsumerGroupOffsets)",
              "HandKafkaLoop.commit",
              "KafkaGroupOffsets.readStable"),
          rule(
              "hand loop: sendOffsetsToTransaction",
              "HandKafkaLoop.commit",
              "KafkaProducer.sendOffsetsToTransaction"),
          rule(
              "hand loop: commitTransaction",
              "HandKafkaLoop.commit",
              "KafkaProducer.commitTransaction"),
          rule("hand loop: poll", "HandKafkaLoop.run", "KafkaConsumer.poll"),
          // The Kafka receivers' consumer thread, per poll: store (log + tracker), then commit.
          rule("receiver store: block tracker record + fsync", "ReceivedBlockTracker.addBlock"),
          rule("receiver store: write-ahead log append + fsync", "WalBlocks.add"),
          rule("receiver store: in memory (no log)", "ReceivedBlocks.add"),
          rule("receiver commit: offset store (ZooKeeper)", "StoreCommitter.commit"),
          rule("receiver commit: Kafka group commitSync", "GroupCommitter.commit"),
          rule("receiver: poll and the rest of the loop", "ConsumerLoop.receive"),
          rule("job generator: allocate blocks (tracker fsync)", "WalBlocks.allocate"),
          rule("job: clean committed blocks (tracker fsync)", "WalBlocks.committed"));

  @Parameters(index = "0", description = "The .jfr file.")
  Path file;

  @Option(
      names = "--threads",
      description = "Only threads whose name starts with this, default ${DEFAULT-VALUE}.")
  String threads = "";

  @Option(
      names = "--per",
      description = "Also print ms per this many units (e.g. batches), default ${DEFAULT-VALUE}.")
  long per = 0;

  private final PrintStream out;

  /** A summary printing to standard output. */
  public WaitSummary() {
    this(System.out);
  }

  WaitSummary(PrintStream out) {
    this.out = out;
  }

  /** Prints the summary; {@code --help} lists the options. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new WaitSummary()).execute(args));
  }

  private static Rule rule(String label, String... frames) {
    return new Rule(label, List.of(frames));
  }

  @Override
  public Integer call() throws IOException {
    Map<String, double[]> sums = new HashMap<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      RecordedThread t = e.getThread();
      if (t == null || e.getStackTrace() == null || e.getDuration().isZero()) {
        continue;
      }
      String name = t.getJavaName() == null ? "?" : t.getJavaName();
      if (!name.startsWith(threads)) {
        continue;
      }
      String key = group(name) + " | " + phase(e.getStackTrace().getFrames());
      double[] s = sums.computeIfAbsent(key, k -> new double[2]);
      s[0]++;
      s[1] += e.getDuration().toNanos() / 1e6;
    }
    out.printf(
        Locale.ROOT,
        "%10s %8s %s%s%n",
        "ms",
        "waits",
        per > 0 ? "ms/unit  " : "",
        "thread | phase");
    sums.entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]))
        .limit(40)
        .forEach(
            en ->
                out.printf(
                    Locale.ROOT,
                    "%10.0f %8.0f %s%s%n",
                    en.getValue()[1],
                    en.getValue()[0],
                    per > 0 ? String.format(Locale.ROOT, "%7.2f  ", en.getValue()[1] / per) : "",
                    en.getKey()));
    return 0;
  }

  /** The thread's name without a trailing number, so a pool's threads count together. */
  private static String group(String thread) {
    return thread.replaceAll("-?\\d+$", "");
  }

  private static String phase(List<RecordedFrame> frames) {
    for (Rule r : RULES) {
      if (r.frames().stream().allMatch(f -> frames.stream().anyMatch(fr -> is(fr, f)))) {
        return r.label();
      }
    }
    for (RecordedFrame fr : frames) {
      String type = fr.getMethod().getType().getName();
      if (!type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun.")) {
        return "other: " + simple(fr);
      }
    }
    return "other: " + (frames.isEmpty() ? "?" : simple(frames.get(0)));
  }

  private static boolean is(RecordedFrame fr, String classDotMethod) {
    return simple(fr).equals(classDotMethod);
  }

  private static String simple(RecordedFrame fr) {
    String type = fr.getMethod().getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + fr.getMethod().getName();
  }
}
