package io.sluice.examples;

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
import java.util.function.Consumer;

/**
 * A {@link ScaleOutMember} (or another member printing its lines, such as {@link CountingMember})
 * running in a child JVM started from this JVM's java executable and class path. A reader thread
 * parses the child's stdout into {@link BatchLine}s and hands each to a callback; the child's
 * stderr (its logs) goes to a file. {@link #kill()} sends SIGKILL through the process handle;
 * {@link #close()} kills it if it still runs. Started and killed by one thread; {@link #batches()}
 * may be read from any.
 */
public final class MemberProcess implements AutoCloseable {

  /** One completed batch of a member. */
  public record BatchLine(
      String member, long batchId, long records, long completedMillis, List<Integer> partitions) {}

  private final String name;
  private final Process process;
  private final Path log;
  private final Thread reader;
  private final List<BatchLine> batches = new CopyOnWriteArrayList<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private volatile boolean started;

  private MemberProcess(String name, Process process, Path log, Consumer<BatchLine> onBatch) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.reader = new Thread(() -> read(onBatch), "scale-out-reader-" + name);
    reader.setDaemon(true);
    reader.setUncaughtExceptionHandler(
        (t, e) -> failures.add("reader of " + name + " failed: " + e));
    reader.start();
  }

  /**
   * Starts {@link ScaleOutMember} with {@code args} in a child JVM named {@code name}, its stderr
   * to {@code dir/<name>.log}; {@code onBatch} is called on the reader thread for every batch.
   */
  public static MemberProcess start(
      String name, List<String> args, Path dir, Consumer<BatchLine> onBatch) {
    return start(ScaleOutMember.class, "256m", name, args, dir, onBatch);
  }

  /**
   * Starts {@code mainClass}, a member printing {@link ScaleOutMember}'s lines, with {@code args}
   * in a child JVM named {@code name} with a heap of at most {@code maxHeap} (e.g. {@code 512m}),
   * its stderr to {@code dir/<name>.log}; {@code onBatch} is called on the reader thread for every
   * batch.
   */
  public static MemberProcess start(
      Class<?> mainClass,
      String maxHeap,
      String name,
      List<String> args,
      Path dir,
      Consumer<BatchLine> onBatch) {
    List<String> command = new ArrayList<>();
    command.add(javaExecutable());
    command.add("-Xmx" + maxHeap);
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    // Whatever logback.xml comes first on the class path: warnings, errors and state restores.
    command.add("-Dlogback.configurationFile=member-logback.xml");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    Path log = dir.resolve(name + ".log");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      return new MemberProcess(name, p, log, onBatch);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the member JVM " + name, e);
    }
  }

  private static String javaExecutable() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  private void read(Consumer<BatchLine> onBatch) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.trim().split(" ", 5);
        switch (f[0]) {
          case "STARTED" -> started = true;
          case "BATCH" -> {
            BatchLine b =
                new BatchLine(
                    name,
                    Long.parseLong(f[1]),
                    Long.parseLong(f[2]),
                    Long.parseLong(f[3]),
                    f[4].equals("-")
                        ? List.of()
                        : Arrays.stream(f[4].split(",")).map(Integer::valueOf).toList());
            batches.add(b);
            onBatch.accept(b);
          }
          case "FAILED" -> failures.add(line);
          default -> {}
        }
      }
    } catch (IOException e) {
      // the process ended (or was killed) while we read: nothing more to parse
    }
  }

  /** The member's name, e.g. {@code p2}. */
  public String name() {
    return name;
  }

  /** Whether the member printed that its context started. */
  public boolean started() {
    return started;
  }

  /** Whether the member's JVM still runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Every batch the member completed so far, in order. */
  public List<BatchLine> batches() {
    return batches;
  }

  /** The partitions of the member's last completed batch (what it owned then). */
  public List<Integer> lastPartitions() {
    return batches.isEmpty() ? List.of() : batches.get(batches.size() - 1).partitions();
  }

  /** {@code FAILED} lines the member printed. */
  public List<String> failures() {
    return failures;
  }

  /** Asks the member to stop gracefully (its running batch finishes and commits). */
  public void stopGracefully() {
    try {
      Writer w = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      w.write("stop\n");
      w.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot ask " + name + " to stop", e);
    }
  }

  /** Waits up to {@code seconds} for the member to exit; true when it did. */
  public boolean waitFor(long seconds) throws InterruptedException {
    return process.waitFor(seconds, TimeUnit.SECONDS);
  }

  /** Sends SIGKILL and waits for the exit; returns the exit code (137 when the kill ended it). */
  public int kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " did not die within 30 s of SIGKILL");
      }
      reader.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing " + name, e);
    }
    return process.exitValue();
  }

  /** The last {@code lines} lines of the member's log. */
  public String tail(int lines) {
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

  /** The last completed batch, or null before the first. */
  public BatchLine last() {
    return batches.isEmpty() ? null : batches.get(batches.size() - 1);
  }

  /** The lines of the member's log (its stderr) that contain {@code text}, in order. */
  public List<String> logLines(String text) {
    try {
      return Files.exists(log)
          ? Files.readAllLines(log).stream().filter(l -> l.contains(text)).toList()
          : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + log, e);
    }
  }

  /** How many lines of the member's log (its stderr) contain {@code text}. */
  public long countInLog(String text) {
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
