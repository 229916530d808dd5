package io.sluice.it.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of {@link ChaosPipeline} in a child JVM started from this JVM's own java executable and
 * class path, with a small heap, its stdout and stderr appended to a log file. Not thread-safe: one
 * test thread owns it.
 */
final class PipelineProcess implements AutoCloseable {

  /** Exit code of a JVM killed by SIGKILL (128 + 9). */
  static final int SIGKILL_EXIT = 137;

  private static final Pattern BATCH_EVENT =
      Pattern.compile("^BATCH_(STARTED|COMPLETED|FAILED) (\\d+)");

  private final Process process;
  private final Path log;
  private final long logStart;

  private PipelineProcess(Process process, Path log, long logStart) {
    this.process = process;
    this.log = log;
    this.logStart = logStart;
  }

  /** Starts {@code ChaosPipeline} with {@code args}, appending its output to {@code log}. */
  static PipelineProcess start(List<String> args, Path log) {
    return start(ChaosPipeline.class, args, log);
  }

  /**
   * Starts {@code mainClass} with {@code args} in a child JVM, appending its output to {@code log}.
   */
  static PipelineProcess start(Class<?> mainClass, List<String> args, Path log) {
    List<String> command = new ArrayList<>();
    command.add(javaExecutable());
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    try {
      long start = Files.exists(log) ? Files.size(log) : 0;
      Files.writeString(
          log,
          "===== start " + String.join(" ", args) + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      return new PipelineProcess(p, log, start);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the pipeline JVM", e);
    }
  }

  private static String javaExecutable() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** The exit code; the process must have ended. */
  int exitValue() {
    return process.exitValue();
  }

  /** Sends SIGKILL and waits for the exit; returns the exit code (137 when the kill ended it). */
  int kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            "pipeline " + process.pid() + " did not die within 30 s of SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing " + process.pid(), e);
    }
    return process.exitValue();
  }

  /** This run's part of the log. */
  String output() {
    try {
      byte[] all = Files.readAllBytes(log);
      int from = (int) Math.min(logStart, all.length);
      return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Where this run stood when it ended: {@code "mid-batch <id>"} when the last batch event printed
   * is a start, {@code "between batches (after <id>)"} after a completion, {@code "before the first
   * batch"}.
   */
  String position() {
    String last = null;
    for (String line : output().split("\n")) {
      Matcher m = BATCH_EVENT.matcher(line);
      if (m.find()) {
        last = m.group(1) + " " + m.group(2);
      }
    }
    if (last == null) {
      return "before the first batch";
    }
    String[] parts = last.split(" ");
    return switch (parts[0]) {
      case "STARTED" -> "mid-batch " + parts[1];
      case "COMPLETED" -> "between batches (after " + parts[1] + ")";
      default -> "after failed batch " + parts[1];
    };
  }

  /** The last {@code lines} lines of the whole log, for failure messages. */
  String tail(int lines) {
    return tail(log, lines);
  }

  static String tail(Path log, int lines) {
    try {
      if (!Files.exists(log)) {
        return "(no log)";
      }
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** Kills the process if it still runs. Idempotent. */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
