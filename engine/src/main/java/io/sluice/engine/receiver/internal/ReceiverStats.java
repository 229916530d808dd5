package io.sluice.engine.receiver.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sluice.engine.Clock;
import io.sluice.engine.status.ReceiverStatus;
import io.sluice.engine.status.ReceiverStatus.ReceiverError;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * What one receiver stream's supervisor counts: records and blocks stored, restarts, errors, the
 * last error and the receiver's state; read by the status server and the {@code sluice.receiver.*}
 * meters. Written by the supervisor's threads and the receiver's, read by any thread. The rate is
 * counted in buckets of one second of the context's clock.
 */
final class ReceiverStats {

  /** Seconds the rate looks back. */
  static final int RATE_WINDOW_SECONDS = 10;

  private final Clock clock;
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong blocks = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile ReceiverStatus.State state = ReceiverStatus.State.STOPPED;
  private volatile ReceiverError lastError;
  // Records stored in each of the last seconds, by epoch second modulo the window; guarded by this.
  private final long[] bucketSecond = new long[RATE_WINDOW_SECONDS];
  private final long[] bucketRecords = new long[RATE_WINDOW_SECONDS];
  private Instant firstStart; // guarded by this

  ReceiverStats(Clock clock) {
    this.clock = clock;
    Arrays.fill(bucketSecond, Long.MIN_VALUE);
  }

  /** The receiver's {@code onStart} is about to be called. */
  void starting() {
    synchronized (this) {
      if (firstStart == null) {
        firstStart = clock.now();
      }
    }
    state = ReceiverStatus.State.RUNNING;
  }

  /** The receiver stopped on a restart request and waits out the back-off. */
  void restarting() {
    state = ReceiverStatus.State.RESTARTING;
  }

  /** The receiver is restarted: its {@code onStart} is called again. */
  void restarted() {
    restarts.incrementAndGet();
  }

  /** The supervisor ended: the receiver is stopped for good. */
  void stopped() {
    state = ReceiverStatus.State.STOPPED;
  }

  /** A block of {@code n} records was stored. */
  void stored(int n) {
    records.addAndGet(n);
    blocks.incrementAndGet();
    long second = clock.now().getEpochSecond();
    int i = (int) Math.floorMod(second, (long) RATE_WINDOW_SECONDS);
    synchronized (this) {
      if (bucketSecond[i] != second) {
        bucketSecond[i] = second;
        bucketRecords[i] = 0;
      }
      bucketRecords[i] += n;
    }
  }

  /** An error: reported by the receiver, or the reason of a restart. */
  void error(String message, Throwable error) {
    errors.incrementAndGet();
    String text = message == null ? "(no message)" : message;
    lastError = new ReceiverError(clock.now(), error == null ? text : text + ": " + error);
  }

  long restarts() {
    return restarts.get();
  }

  long errors() {
    return errors.get();
  }

  /**
   * Records stored per second: over the current second and the whole seconds before it, {@value
   * #RATE_WINDOW_SECONDS} in all, or since the receiver first started when that is sooner; at least
   * one second.
   */
  synchronized double recordsPerSecond() {
    if (firstStart == null) {
      return 0;
    }
    Instant now = clock.now();
    long nowSecond = now.getEpochSecond();
    long oldest = nowSecond - RATE_WINDOW_SECONDS + 1;
    long sum = 0;
    for (int i = 0; i < RATE_WINDOW_SECONDS; i++) {
      if (bucketSecond[i] >= oldest && bucketSecond[i] <= nowSecond) {
        sum += bucketRecords[i];
      }
    }
    Instant from = Instant.ofEpochSecond(oldest);
    if (firstStart.isAfter(from)) {
      from = firstStart;
    }
    long windowMs = Math.max(1000, Duration.between(from, now).toMillis());
    return sum * 1000.0 / windowMs;
  }

  /** A snapshot for the status server. */
  ReceiverStatus snapshot(String stream, String receiver) {
    return new ReceiverStatus(
        stream,
        receiver,
        state,
        records.get(),
        recordsPerSecond(),
        blocks.get(),
        restarts.get(),
        errors.get(),
        Optional.ofNullable(lastError));
  }

  /**
   * Registers {@code sluice.receiver.records}, {@code .blocks}, {@code .restarts} and {@code
   * .errors}, tagged with the application and the stream.
   */
  void bindTo(MeterRegistry registry, String app, String stream) {
    Tags tags = Tags.of("app", app, "stream", stream);
    counter(
        registry,
        "sluice.receiver.records",
        "records the receiver stored",
        tags,
        s -> s.records.get());
    counter(
        registry,
        "sluice.receiver.blocks",
        "blocks the receiver stored",
        tags,
        s -> s.blocks.get());
    counter(
        registry,
        "sluice.receiver.restarts",
        "restarts of the receiver",
        tags,
        s -> s.restarts.get());
    counter(
        registry,
        "sluice.receiver.errors",
        "errors the receiver reported, and restarts",
        tags,
        s -> s.errors.get());
  }

  private void counter(
      MeterRegistry registry,
      String name,
      String description,
      Tags tags,
      ToDoubleFunction<ReceiverStats> f) {
    FunctionCounter.builder(name, this, f).description(description).tags(tags).register(registry);
  }
}
