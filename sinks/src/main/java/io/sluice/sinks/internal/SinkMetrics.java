package io.sluice.sinks.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;

/**
 * A sink's meters, tagged with the application and the sink: write latency per batch ({@code
 * sluice.sink.write}) and records written ({@code sluice.sink.records}). Thread-safe.
 */
public final class SinkMetrics {

  private final Timer write;
  private final Counter records;

  private SinkMetrics(MeterRegistry registry, String app, String sink) {
    Tags tags = Tags.of("app", app, "sink", sink);
    write =
        Timer.builder("sluice.sink.write")
            .description("time to write and commit one batch in a sink")
            .tags(tags)
            .register(registry);
    records =
        Counter.builder("sluice.sink.records")
            .description("records written by a sink")
            .baseUnit("records")
            .tags(tags)
            .register(registry);
  }

  /** Meters in {@code registry}. */
  public static SinkMetrics of(MeterRegistry registry, String app, String sink) {
    return new SinkMetrics(registry, app, sink);
  }

  /** Meters nobody reads, for a sink used before {@code open()}. */
  public static SinkMetrics detached(String sink) {
    return new SinkMetrics(new SimpleMeterRegistry(), "none", sink);
  }

  /** Records one batch's write, started at {@code startNanos} ({@link System#nanoTime()}). */
  public void batchWritten(long startNanos, long recordCount) {
    write.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    records.increment(recordCount);
  }

  /** Adds records written outside a whole-batch measurement (e.g. per partition). */
  public void recordsWritten(long count) {
    records.increment(count);
  }

  /** Records the write latency only. */
  public void latency(long startNanos) {
    write.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }
}
