package io.sluice.sinks.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.output.ConsoleOutput;
import io.sluice.engine.rdd.RDD;
import io.sluice.sinks.ConsoleSink;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;

/**
 * The console sink; see {@link ConsoleSink}. Prints on the job thread, so a batch's lines are never
 * interleaved with another batch's.
 *
 * @param <T> record type
 */
public final class ConsoleSinkImpl<T> implements ConsoleSink<T> {

  private final int n;
  private final PrintStream out;

  /** The engine's console output, which {@code DStream.print} uses too: one format for both. */
  private final ConsoleOutput<T> console;

  private volatile SinkMetrics metrics;

  /** A sink printing up to {@code n} records per batch to {@code out}. */
  public ConsoleSinkImpl(int n, PrintStream out) {
    this.n = n;
    this.out = out;
    this.console = new ConsoleOutput<>(n, out);
    this.metrics = SinkMetrics.detached(describe());
  }

  @Override
  public String describe() {
    return "ConsoleSink";
  }

  @Override
  public DeliveryGuarantee guarantee() {
    return DeliveryGuarantee.AT_LEAST_ONCE;
  }

  @Override
  public List<String> exactlyOnceGaps() {
    return List.of("ConsoleSink prints a replayed batch again");
  }

  @Override
  public void open(StreamingContext context) {
    metrics = SinkMetrics.of(context.meterRegistry(), context.appName(), describe());
  }

  @Override
  public void write(RDD<T> rdd, Batch batch) {
    long start = System.nanoTime();
    metrics.batchWritten(start, console.print(rdd, batch));
  }

  /**
   * Prints one partition's first records under a header naming the batch and partition. Task
   * thread.
   */
  @Override
  public void write(Batch batch, int partition, Iterator<T> records) {
    StringBuilder text =
        new StringBuilder("Batch: ")
            .append(batch.id())
            .append(" partition ")
            .append(partition)
            .append('\n');
    for (int i = 0; i < n && records.hasNext(); i++) {
      text.append(records.next()).append('\n');
    }
    synchronized (out) {
      out.print(text);
    }
  }
}
