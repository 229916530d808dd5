package io.sluice.testkit;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Prints start-up time, heap after GC and stop time of each fixture (not a test; run by hand):
 * {@code java -cp <test class path> io.sluice.testkit.FixtureFigures [runs
 * [kafka|zookeeper|postgres]...]}. The first run of each fixture in a JVM is cold (class loading,
 * JIT).
 */
public final class FixtureFigures {

  private FixtureFigures() {}

  public static void main(String[] args) {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    List<String> only =
        args.length > 1
            ? List.of(args).subList(1, args.length)
            : List.of("kafka", "zookeeper", "postgres");
    if (only.contains("kafka")) {
      measure("EmbeddedKafka", runs, EmbeddedKafka::startNew);
    }
    if (only.contains("zookeeper")) {
      measure("EmbeddedZooKeeper", runs, EmbeddedZooKeeper::startNew);
    }
    if (only.contains("postgres")) {
      measure("EmbeddedPostgresDatabase", runs, EmbeddedPostgresDatabase::startNew);
    }
  }

  private static void measure(String name, int runs, Supplier<? extends AutoCloseable> starter) {
    List<double[]> figures = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      long heapBefore = heapAfterGc();
      long t0 = System.nanoTime();
      AutoCloseable fixture = starter.get();
      long t1 = System.nanoTime();
      long heapRunning = heapAfterGc();
      long t2 = System.nanoTime();
      try {
        fixture.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      long t3 = System.nanoTime();
      double[] f = {(t1 - t0) / 1e9, (heapRunning - heapBefore) / 1048576.0, (t3 - t2) / 1e9};
      figures.add(f);
      System.out.printf(
          Locale.ROOT,
          "%s run %d: start %.2f s, heap after GC +%.1f MiB, stop %.2f s%n",
          name,
          run + 1,
          f[0],
          f[1],
          f[2]);
    }
    System.out.printf(
        Locale.ROOT,
        "%s median of %d: start %.2f s, heap +%.1f MiB, stop %.2f s%n",
        name,
        runs,
        median(figures, 0),
        median(figures, 1),
        median(figures, 2));
  }

  private static double median(List<double[]> figures, int index) {
    double[] values = figures.stream().mapToDouble(f -> f[index]).sorted().toArray();
    return values[values.length / 2];
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
