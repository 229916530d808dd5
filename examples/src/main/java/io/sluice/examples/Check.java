package io.sluice.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Small helpers the commands share: banners, PASS/FAIL lines, table comparison, temp dirs. */
final class Check {

  private Check() {}

  static void banner(PrintStream out, String title, String... lines) {
    out.println("== " + title + " " + "=".repeat(Math.max(3, 76 - title.length())));
    for (String l : lines) {
      out.println("   " + l);
    }
    out.println();
  }

  /** Prints {@code expected} against {@code actual}, one key per line. */
  static void printComparison(
      PrintStream out,
      String expectedName,
      Map<String, Long> expected,
      String actualName,
      Map<String, Long> actual) {
    out.printf("   %-10s %16s %16s%n", "product", expectedName, actualName);
    for (String k : new TreeSet<>(union(expected, actual))) {
      long e = expected.getOrDefault(k, 0L);
      long a = actual.getOrDefault(k, 0L);
      out.printf("   %-10s %,16d %,16d%s%n", k, e, a, e == a ? "" : "   <-- differs");
    }
    out.printf("   %-10s %,16d %,16d%n", "total", sum(expected), sum(actual));
  }

  private static TreeSet<String> union(Map<String, Long> a, Map<String, Long> b) {
    TreeSet<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    return keys;
  }

  /** Equal as maps, treating a missing key as 0. */
  static boolean sameAmounts(Map<String, Long> a, Map<String, Long> b) {
    for (String k : union(a, b)) {
      if (a.getOrDefault(k, 0L).longValue() != b.getOrDefault(k, 0L).longValue()) {
        return false;
      }
    }
    return true;
  }

  /** {@code 500 ms}, {@code 30 s}, {@code 2.5 s}. */
  static String format(java.time.Duration d) {
    long ms = d.toMillis();
    return ms < 1000
        ? ms + " ms"
        : ms % 1000 == 0 ? ms / 1000 + " s" : String.format("%.1f s", ms / 1000.0);
  }

  static long sum(Map<String, Long> m) {
    return m.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Prints the verdict and returns the exit code: 0 for PASS, 1 for FAIL. */
  static int verdict(PrintStream out, boolean pass, String details) {
    out.println((pass ? "PASS: " : "FAIL: ") + details);
    out.flush();
    return pass ? 0 : 1;
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
