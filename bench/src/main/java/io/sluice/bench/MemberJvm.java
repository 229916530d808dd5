package io.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RebalanceMember} in a child JVM (this JVM's java executable and class path). A reader
 * thread parses its stdout into {@link Batch}es and calls {@code onLine} after each line; its
 * stderr goes to {@code dir/<name>.log}. Started, stopped and killed by the bench thread.
 */
final class MemberJvm implements AutoCloseable {

  /** One completed batch: who, when (epoch ms) and the input partitions its plan covered. */
  record Batch(String member, long records, long completedMillis, List<Integer> partitions) {}

  private final String name;
  private final Process process;
  private final Path log;
  private final Thread reader;
  private final List<Batch> batches = new CopyOnWriteArrayList<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();

  private MemberJvm(String name, Process process, Path log, Runnable onLine) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.reader = new Thread(() -> read(onLine), "rebalance-bench-reader-" + name);
    reader.setDaemon(true);
    reader.setUncaughtExceptionHandler((t, e) -> failures.add("reader failed: " + e));
    reader.start();
  }

  static MemberJvm start(String name, List<String> args, Path dir, Runnable onLine) {
    List<String> command = new ArrayList<>();
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(
        List.of(
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            RebalanceMember.class.getName()));
    command.addAll(args);
    Path log = dir.resolve(name + ".log");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      return new MemberJvm(name, p, log, onLine);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start member JVM " + name, e);
    }
  }

  private void read(Runnable onLine) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.trim().split(" ", 5);
        if (f[0].equals("BATCH")) {
          batches.add(
              new Batch(
                  name,
                  Long.parseLong(f[2]),
                  Long.parseLong(f[3]),
                  f[4].equals("-")
                      ? List.of()
                      : Arrays.stream(f[4].split(",")).map(Integer::valueOf).toList()));
        } else if (f[0].equals("FAILED")) {
          failures.add(line);
        }
        onLine.run();
      }
    } catch (IOException e) {
      // the process ended while we read
    }
    onLine.run();
  }

  String name() {
    return name;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  List<Batch> batches() {
    return batches;
  }

  List<String> failures() {
    return failures;
  }

  /** The last completed batch, or null. */
  Batch last() {
    return batches.isEmpty() ? null : batches.get(batches.size() - 1);
  }

  /** Asks for {@code ctx.stop(true)}: the running batch finishes and commits, then it leaves. */
  void stopGracefully() {
    try {
      Writer w = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      w.write("stop\n");
      w.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot ask " + name + " to stop", e);
    }
  }

  /** SIGKILL through the process handle; waits for the exit and returns its code. */
  int kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " did not die within 30 s of SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing " + name, e);
    }
    return process.exitValue();
  }

  String tail(int lines) {
    try {
      List<String> all = Files.exists(log) ? Files.readAllLines(log) : List.of();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** How many lines of the member's log contain {@code text}. */
  long countInLog(String text) {
    try {
      return Files.exists(log)
          ? Files.readAllLines(log).stream().filter(l -> l.contains(text)).count()
          : 0;
    } catch (IOException e) {
      return -1;
    }
  }

  /** Kills the member if it still runs. Idempotent. */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
