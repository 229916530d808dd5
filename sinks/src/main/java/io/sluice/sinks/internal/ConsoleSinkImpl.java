package io.sluice.sinks.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
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

    private static final String RULE = "-------------------------------------------";

    private final int n;
    private final PrintStream out;
    private volatile SinkMetrics metrics;

    /** A sink printing up to {@code n} records per batch to {@code out}. */
    public ConsoleSinkImpl(int n, PrintStream out) {
        this.n = n;
        this.out = out;
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
        List<T> first = rdd.take(n + 1);
        StringBuilder text = new StringBuilder(RULE).append('\n')
                .append("Batch: ").append(batch.id()).append("  Time: ").append(batch.time()).append('\n')
                .append(RULE).append('\n');
        for (int i = 0; i < Math.min(n, first.size()); i++) {
            text.append(first.get(i)).append('\n');
        }
        if (first.size() > n) {
            text.append("...\n");
        }
        out.print(text.append('\n'));
        out.flush();
        metrics.batchWritten(start, Math.min(n, first.size()));
    }

    /** Prints one partition's first records under a header naming the batch and partition. Task thread. */
    @Override
    public void write(Batch batch, int partition, Iterator<T> records) {
        StringBuilder text = new StringBuilder("Batch: ").append(batch.id()).append(" partition ").append(partition)
                .append('\n');
        for (int i = 0; i < n && records.hasNext(); i++) {
            text.append(records.next()).append('\n');
        }
        synchronized (out) {
            out.print(text);
        }
    }
}
