package io.sluice.examples;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StartingOffsets;
import io.sluice.status.SluiceStatus;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One live run of the orders pipeline, as {@code demo} and {@code replay} use it: a generator
 * writes orders for {@code duration} while the pipeline runs; then the generator stops, the
 * pipeline drains to the topic's end offsets, and the context stops gracefully. Runs on the calling
 * thread.
 */
final class OrdersRun {

  /** What a run needs; {@code statusPort} null for no status page, 0 for any free port. */
  record Settings(
      String appName,
      String topic,
      String deadLetterTopic,
      String group,
      Duration batchInterval,
      int parallelism,
      long maxRatePerPartition,
      double rate,
      double malformedPercent,
      Duration duration,
      Duration drainTimeout,
      long seed,
      Integer statusPort) {}

  /**
   * What a run did.
   *
   * @param produced what the generator produced (acknowledged by the broker)
   * @param startOffsets the topic's end offsets before the generator started (where the run starts)
   * @param endOffsets the topic's end offsets after the generator stopped (where the run drained
   *     to)
   * @param deadLetterStart the dead-letter topic's end offsets before the run
   * @param batches batches completed
   * @param elapsed wall-clock time of the run
   */
  record Result(
      OrderGenerator.Totals produced,
      Map<TopicPartition, Long> startOffsets,
      Map<TopicPartition, Long> endOffsets,
      Map<TopicPartition, Long> deadLetterStart,
      long batches,
      Duration elapsed) {}

  private OrdersRun() {}

  /**
   * Runs the pipeline; {@code outputs} registers the output operations on the revenue stream.
   *
   * @throws io.sluice.engine.BatchFailedException when a batch failed (the context stopped)
   * @throws IllegalStateException when the pipeline did not drain within the drain timeout
   */
  static Result run(
      Settings s,
      Servers servers,
      OffsetStore store,
      PrintStream out,
      Consumer<PairDStream<String, Long>> outputs)
      throws InterruptedException {
    String bootstrap = servers.bootstrapServers();
    requireNewGroup(store, s.group());
    servers.createTopic(s.topic(), 4);
    servers.createTopic(s.deadLetterTopic(), 1);
    Map<TopicPartition, Long> start = servers.endOffsets(s.topic());
    Map<TopicPartition, Long> deadLetterStart = servers.endOffsets(s.deadLetterTopic());

    Path checkpointDir = Check.tempDir("sluice-" + s.appName() + "-");
    OrderGenerator generator = null;
    StreamingContext ctx = null;
    long t0 = System.nanoTime();
    try {
      StreamingContext.Builder builder =
          StreamingContext.builder()
              .appName(s.appName())
              .batchInterval(s.batchInterval())
              .parallelism(s.parallelism())
              .checkpointDir(checkpointDir)
              .exactlyOnce(true);
      if (s.statusPort() != null) {
        builder.statusServer(s.statusPort());
      }
      ctx = builder.build();
      SluiceStatus.uri(ctx)
          .ifPresent(uri -> out.println("status page: " + uri + "  (up while the demo runs)"));
      // The (new) group starts where the topic ends now, so that exactly this run's orders are
      // processed.
      StartingOffsets starting = StartingOffsets.specific(start);
      OrderGenerator[] gen = new OrderGenerator[1];
      Progress progress =
          new Progress(s.appName(), out, () -> gen[0] == null ? Map.of() : gen[0].endOffsets());
      DStream<ConsumerRecord<String, Order>> orders =
          progress.track(
              OrdersPipeline.orders(
                  ctx,
                  bootstrap,
                  s.topic(),
                  s.group(),
                  s.deadLetterTopic(),
                  starting,
                  store,
                  s.maxRatePerPartition()));
      outputs.accept(OrdersPipeline.revenue(orders));
      ctx.addStreamingListener(progress);
      ctx.start();

      generator =
          new OrderGenerator(
              bootstrap, s.topic(), s.rate(), s.malformedPercent(), Long.MAX_VALUE, s.seed());
      gen[0] = generator;
      out.printf("generating orders at %,.0f/s for %s ...%n", s.rate(), Check.format(s.duration()));
      if (ctx.awaitTermination(s.duration())) {
        throw new IllegalStateException("the context stopped before the end of the run");
      }
      generator.close();
      Map<TopicPartition, Long> end = new HashMap<>(start);
      generator.endOffsets().forEach((tp, o) -> end.merge(tp, o, Math::max));
      out.printf(
          "generator stopped after %,d orders; draining to %s ...%n",
          generator.totals().records(), end);
      drain(ctx, progress, start, end, s.drainTimeout());
      ctx.stop(true);
      ctx.awaitTermination();
      return new Result(
          generator.totals(),
          start,
          end,
          deadLetterStart,
          progress.batches(),
          Duration.ofNanos(System.nanoTime() - t0));
    } finally {
      if (generator != null) {
        try {
          generator.close();
        } catch (RuntimeException e) {
          out.println("generator: " + e.getMessage());
        }
      }
      if (ctx != null) {
        ctx.stop(false);
        SluiceStatus.close(ctx);
      }
      Check.deleteTree(checkpointDir);
    }
  }

  /**
   * Waits until the completed (committed) batches reached {@code end} on every partition that
   * received records after {@code start}, pausing on the context (which rethrows a batch failure).
   */
  static void drain(
      StreamingContext ctx,
      Progress progress,
      Map<TopicPartition, Long> start,
      Map<TopicPartition, Long> end,
      Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<TopicPartition, Long> done = progress.completedUntil();
      if (end.entrySet().stream()
          .allMatch(
              e ->
                  done.getOrDefault(e.getKey(), start.getOrDefault(e.getKey(), 0L))
                      >= e.getValue())) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the pipeline did not reach " + end + " within " + timeout + "; completed " + done);
      }
      if (ctx.awaitTermination(Duration.ofMillis(50))) {
        throw new IllegalStateException("the context stopped while draining");
      }
    }
  }

  /**
   * Refuses a group that already committed batches: the examples keep their checkpoint in a
   * temporary directory, so their batch ids start at 0 again, and an exactly-once sink would take
   * every batch for one it already applied.
   */
  static void requireNewGroup(OffsetStore store, String group) {
    store
        .lastBatchId(group)
        .ifPresent(
            last -> {
              throw new IllegalStateException(
                  "group '"
                      + group
                      + "' already committed batches up to "
                      + last
                      + " in "
                      + store.describe()
                      + "; this example starts from batch 0 with a fresh checkpoint, so pass a new --group");
            });
  }
}
