package io.sluice.engine.output;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.rdd.RDD;
import java.io.PrintStream;
import java.util.List;
import java.util.Objects;

/**
 * Prints the first elements of every batch, like Spark's {@code print()}: a header with the batch
 * time (ms) and id, up to {@code n} elements, one per line, and {@code ...} when the batch held
 * more. Prints on the job thread, so two batches' lines never interleave. At-least-once: a replayed
 * batch is printed again.
 *
 * @param <T> element type
 */
public final class ConsoleOutput<T> implements BatchOutput<T> {

  private static final String RULE = "-------------------------------------------";

  private final int n;
  private final PrintStream out;

  /**
   * Prints up to {@code n} elements per batch to {@code out}.
   *
   * @throws IllegalArgumentException if {@code n <= 0}
   */
  public ConsoleOutput(int n, PrintStream out) {
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0, was " + n);
    }
    this.n = n;
    this.out = Objects.requireNonNull(out, "out");
  }

  /**
   * Takes the batch's first {@code n + 1} elements (one job) and prints them; returns how many it
   * printed.
   */
  public int print(RDD<T> rdd, Batch batch) {
    List<T> first = rdd.take(n + 1);
    StringBuilder text =
        new StringBuilder(RULE)
            .append('\n')
            .append("Time: ")
            .append(batch.time().toEpochMilli())
            .append(" ms (batch ")
            .append(batch.id())
            .append(")\n")
            .append(RULE)
            .append('\n');
    int printed = Math.min(n, first.size());
    for (int i = 0; i < printed; i++) {
      text.append(first.get(i)).append('\n');
    }
    if (first.size() > n) {
      text.append("...\n");
    }
    out.print(text.append('\n'));
    out.flush();
    return printed;
  }

  @Override
  public void write(RDD<T> rdd, Batch batch) {
    print(rdd, batch);
  }

  @Override
  public DeliveryGuarantee guarantee() {
    return DeliveryGuarantee.AT_LEAST_ONCE;
  }

  @Override
  public List<String> exactlyOnceGaps() {
    return List.of("printing to the console repeats a replayed batch");
  }

  @Override
  public String describe() {
    return "console";
  }
}
