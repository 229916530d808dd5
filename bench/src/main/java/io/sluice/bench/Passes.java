package io.sluice.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs a measurement as warm-up passes followed by measured passes in the same JVM and reports the
 * median of the measured ones. Warm-up passes let the JIT compile the hot paths, which on this kind
 * of code makes the figures 2-3 times higher than the first, cold pass.
 */
final class Passes {

  /** One pass; returns its figure (higher or lower is better depending on the measurement). */
  @FunctionalInterface
  interface Pass {
    double run() throws Exception;
  }

  private Passes() {}

  /**
   * Runs {@code warmup + measured} passes, printing each figure with {@code unit}, and returns the
   * median of the measured passes ({@code NaN} when {@code measured} is 0).
   */
  static double median(
      PrintStream out, String name, String unit, int warmup, int measured, Pass pass)
      throws Exception {
    List<Double> figures = new ArrayList<>();
    for (int i = 0; i < warmup + measured; i++) {
      double figure = pass.run();
      boolean warm = i >= warmup;
      out.printf(
          Locale.ROOT,
          "  %-44s %s %d: %s %s%n",
          name,
          warm ? "pass   " : "warm-up",
          i + 1,
          format(figure),
          unit);
      if (warm) {
        figures.add(figure);
      }
    }
    return median(figures);
  }

  /**
   * Runs {@code warmup + measured} rounds; each round runs every pass of {@code passes} once, in
   * order, so that a change in the machine's load during the run hits every contender alike. Prints
   * each figure and returns the measured figures per name, in round order (so {@code a.get(i) /
   * b.get(i)} is a paired ratio from one round).
   */
  static Map<String, List<Double>> interleaved(
      PrintStream out, String unit, int warmup, int measured, Map<String, Pass> passes)
      throws Exception {
    Map<String, List<Double>> figures = new LinkedHashMap<>();
    passes.keySet().forEach(name -> figures.put(name, new ArrayList<>()));
    for (int i = 0; i < warmup + measured; i++) {
      boolean warm = i >= warmup;
      for (Map.Entry<String, Pass> e : passes.entrySet()) {
        double figure = e.getValue().run();
        out.printf(
            Locale.ROOT,
            "  round %d %s  %-44s %s %s%n",
            i + 1,
            warm ? "measured" : "warm-up ",
            e.getKey(),
            format(figure),
            unit);
        if (warm) {
          figures.get(e.getKey()).add(figure);
        }
      }
    }
    return figures;
  }

  /** The median of the per-round ratios {@code a[i] / b[i]}. */
  static double medianRatio(List<Double> a, List<Double> b) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      ratios.add(a.get(i) / b.get(i));
    }
    return median(ratios);
  }

  /** The median (upper median for an even count) of {@code values}; {@code NaN} when empty. */
  static double median(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get(sorted.size() / 2);
  }

  /** Thousands-separated with no decimals above 100, three significant decimals below. */
  static String format(double v) {
    return Math.abs(v) >= 100
        ? String.format(Locale.ROOT, "%,.0f", v)
        : String.format(Locale.ROOT, "%.3f", v);
  }

  /**
   * The first three fields of {@code /proc/loadavg} (1, 5, 15 minutes), or "n/a" where there is
   * none.
   */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  /** Seconds elapsed since {@code t0} from {@link System#nanoTime()}. */
  static double secondsSince(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** This process's CPU time so far, or 0 where the JVM does not tell. */
  static long processCpuNanos() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : 0;
  }
}
