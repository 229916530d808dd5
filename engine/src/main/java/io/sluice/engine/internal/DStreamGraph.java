package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.internal.OutputOperation;
import io.sluice.engine.dstream.internal.Outputs;
import io.sluice.engine.function.VoidFunction2;
import io.sluice.engine.rdd.RDD;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The DStream template of a context: its operators, inputs and output operations. Built on the
 * application thread before start (guarded by this object's lock), then read by the job generator
 * only.
 */
public final class DStreamGraph {

  private final StreamingContext context;
  private static final int REMEMBERED_BATCH_IDS = 1_000;

  private final List<DStream<?>> streams = new ArrayList<>();
  private final java.util.concurrent.ConcurrentSkipListMap<Instant, Long> batchIds =
      new java.util.concurrent.ConcurrentSkipListMap<>();
  private final List<InputDStream<?, ?>> inputs = new ArrayList<>();
  private final List<OutputOperation<?>> outputs = new ArrayList<>();
  private final List<BatchOutput<?>> batchOutputs = new ArrayList<>();
  private final Map<String, BatchOutput<?>> batchOutputsByOperation = new HashMap<>();
  private int nextIndex;

  DStreamGraph(StreamingContext context) {
    this.context = context;
  }

  /** Registers an operator and returns its default name {@code kind-<index>}. */
  public synchronized String register(DStream<?> stream, String kind) {
    requireModifiable("add operator '" + kind + "'");
    streams.add(stream);
    if (stream instanceof InputDStream<?, ?> in) {
      inputs.add(in);
    }
    return kind + "-" + nextIndex++;
  }

  /** Refuses a second input with the same name. */
  public synchronized void checkInputName(InputDStream<?, ?> input) {
    for (InputDStream<?, ?> other : inputs) {
      if (other != input && other.name().equals(input.name())) {
        inputs.remove(input);
        streams.remove(input);
        throw new IllegalArgumentException(
            "input name '"
                + input.name()
                + "' is already used by another input of context '"
                + context.appName()
                + "'");
      }
    }
  }

  /**
   * Checks that {@code input} may take {@code newName}: the graph is still being built and no other
   * input has it.
   *
   * @throws IllegalArgumentException when another input has the name
   * @throws IllegalStateException after start
   */
  public synchronized void requireUniqueInputName(InputDStream<?, ?> input, String newName) {
    requireModifiable("rename input '" + input.name() + "'");
    for (InputDStream<?, ?> other : inputs) {
      if (other != input && other.name().equals(newName)) {
        throw new IllegalArgumentException(
            "input name '"
                + newName
                + "' is already used by another input of context '"
                + context.appName()
                + "'");
      }
    }
  }

  /** Registers an output operation. */
  public synchronized <T> OutputOperation<T> registerOutput(
      DStream<T> stream, String kind, String name, VoidFunction2<RDD<T>, Batch> f) {
    requireModifiable("add output operation '" + (name != null ? name : kind) + "'");
    if (stream.context() != context) {
      throw new IllegalArgumentException(
          "stream '" + stream.name() + "' belongs to another context");
    }
    String n = name != null ? name : kind + "-" + nextIndex++;
    OutputOperation<T> op = Outputs.create(stream, n, outputs.size(), f);
    outputs.add(op);
    return op;
  }

  /** Remembers a {@link BatchOutput} for its open/close lifecycle. */
  public synchronized void addBatchOutput(String operationName, BatchOutput<?> output) {
    batchOutputs.add(output);
    batchOutputsByOperation.put(operationName, output);
  }

  /**
   * The {@link BatchOutput} behind an output operation, if it was registered through {@code
   * writeTo}.
   */
  public synchronized Optional<BatchOutput<?>> batchOutputOf(String operationName) {
    return Optional.ofNullable(batchOutputsByOperation.get(operationName));
  }

  /** The registered {@link BatchOutput}s, in registration order. */
  public synchronized List<BatchOutput<?>> batchOutputs() {
    return List.copyOf(batchOutputs);
  }

  /** Throws unless the context is still being built. */
  public void requireModifiable(String what) {
    StreamingContext.State s = context.state();
    if (s != StreamingContext.State.INITIALIZED) {
      throw new IllegalStateException(
          "cannot "
              + what
              + ": context '"
              + context.appName()
              + "' is "
              + s
              + "; operators and outputs must be added before start()");
    }
  }

  /** The inputs, in registration order. */
  public synchronized List<InputDStream<?, ?>> inputs() {
    return List.copyOf(inputs);
  }

  /** The output operations, in registration order. */
  public synchronized List<OutputOperation<?>> outputs() {
    return List.copyOf(outputs);
  }

  /**
   * Validates the graph and prepares it to run from {@code zeroTime}.
   *
   * @throws IllegalArgumentException for an invalid window, duplicate names, or no outputs
   */
  public synchronized void prepare(Instant zeroTime, Duration batchInterval) {
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException(
          "context '"
              + context.appName()
              + "' has no output operations;"
              + " add print(), foreachBatch(...) or saveAsTextFiles(...) before start()");
    }
    DStreamAccess access = DStreamAccess.get();
    Map<String, DStream<?>> names = new HashMap<>();
    for (DStream<?> s : streams) {
      DStream<?> other = names.putIfAbsent(s.name(), s);
      if (other != null) {
        throw new IllegalArgumentException(
            "two operators are named '"
                + s.name()
                + "' ("
                + other
                + " and "
                + s
                + "); operator names must be unique");
      }
    }
    Map<String, OutputOperation<?>> outNames = new HashMap<>();
    for (OutputOperation<?> o : outputs) {
      if (outNames.putIfAbsent(o.name(), o) != null) {
        throw new IllegalArgumentException("two output operations are named '" + o.name() + "'");
      }
    }
    for (DStream<?> s : streams) {
      access.validate(s, batchInterval);
    }
    for (DStream<?> s : streams) {
      access.initialize(s, zeroTime);
    }
    // A batch's jobs hold their RDDs; the graph remembers older RDDs only for windows.
    for (OutputOperation<?> o : outputs) {
      access.remember(o.stream(), Duration.ZERO);
    }
  }

  /** The jobs of {@code batch}, one per output operation that has an RDD at the batch time. */
  public List<OutputOperation.Job> jobsFor(Batch batch) {
    List<OutputOperation.Job> jobs = new ArrayList<>(outputs.size());
    for (OutputOperation<?> o : outputs) {
      o.jobFor(batch).ifPresent(jobs::add);
    }
    return jobs;
  }

  /** Records that {@code batch} was planned, so that state operators know its id by its time. */
  public void batchPlanned(Batch batch) {
    batchIds.put(batch.time(), batch.id());
    while (batchIds.size() > REMEMBERED_BATCH_IDS) {
      batchIds.pollFirstEntry();
    }
  }

  /** The id of the batch planned at {@code time}, if it is among the recent ones. */
  public OptionalLong batchIdAt(Instant time) {
    Long id = batchIds.get(time);
    return id == null ? OptionalLong.empty() : OptionalLong.of(id);
  }

  /** How far back the windows reach into the inputs' RDDs (after {@link #prepare}). */
  public synchronized Duration inputReach() {
    DStreamAccess access = DStreamAccess.get();
    Duration reach = Duration.ZERO;
    for (DStream<?> s : streams) {
      if (s instanceof InputDStream<?, ?> && access.rememberDuration(s).compareTo(reach) > 0) {
        reach = access.rememberDuration(s);
      }
    }
    return reach;
  }

  /**
   * The least common multiple of every stream's slide, in milliseconds: windows fire at multiples
   * of their slide since a zero time that is a multiple of it, so at the same times in every run.
   */
  public synchronized long slidesPeriodMillis(Duration batchInterval) {
    long period = batchInterval.toMillis();
    for (DStream<?> s : streams) {
      long slide = s.slideDuration().toMillis();
      period = Math.multiplyExact(period / gcd(period, slide), slide);
    }
    return period;
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** Moves every stream's zero time (before any batch ran). */
  public synchronized void initialize(Instant zeroTime) {
    DStreamAccess access = DStreamAccess.get();
    for (DStream<?> s : streams) {
      access.initialize(s, zeroTime);
    }
  }

  /**
   * The output operations of the batch at {@code time} are done (see {@link
   * DStreamAccess#batchDone}).
   */
  public void batchDone(Instant time) {
    DStreamAccess access = DStreamAccess.get();
    for (DStream<?> s : streams) {
      access.batchDone(s, time);
    }
  }

  /** Forgets RDDs that no window needs at or after {@code time}. */
  public void clearOld(Instant time) {
    DStreamAccess access = DStreamAccess.get();
    for (DStream<?> s : streams) {
      access.clearOld(s, time);
    }
  }
}
