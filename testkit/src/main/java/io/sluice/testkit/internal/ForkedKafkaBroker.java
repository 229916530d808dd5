package io.sluice.testkit.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The {@link InProcessKafkaBroker} in a child JVM of its own ({@code sluice.testkit.kafka=forked}),
 * so that a benchmark measures its clients without the broker's threads, allocations and garbage
 * collections in the same process. The child runs this class's {@link #main}, with the parent's
 * class path; the two talk over the child's standard input and output, one line per command. The
 * child stops, removing its data, when its standard input ends: when {@link #close()} closes it, or
 * when the parent dies.
 */
public final class ForkedKafkaBroker implements KafkaBackend {

  /** Prefix of the child's answers on its standard output; other output lines are its own. */
  static final String ANSWER = "@sluice-forked-broker ";

  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

  private final Map<String, String> overrides;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private Process process;
  private PrintWriter commands;
  private String bootstrapServers;
  private Path storage;

  /**
   * @param overrides broker settings applied over the defaults; none of {@link
   *     InProcessKafkaBroker#RESERVED_PROPERTIES}
   */
  public ForkedKafkaBroker(Map<String, String> overrides) {
    this.overrides = Map.copyOf(overrides);
  }

  @Override
  public void start() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ForkedKafkaBroker.class.getName());
    overrides.forEach((key, value) -> command.add(key + "=" + value));
    try {
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a JVM for the forked Kafka broker", e);
    }
    commands =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    Thread reader = new Thread(this::readAnswers, "sluice-forked-broker-output");
    reader.setDaemon(true);
    reader.start();
    try {
      String[] ready = await("READY", START_TIMEOUT).split(" ", 2);
      bootstrapServers = ready[0];
      storage = Path.of(ready[1]);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The child process; null before {@link #start()}. */
  public Process process() {
    return process;
  }

  /** The child's data directory, which it removes when it stops; null before {@link #start()}. */
  public Path storage() {
    return storage;
  }

  @Override
  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public void restart() {
    call("restart");
  }

  @Override
  public void pause() {
    call("pause");
  }

  @Override
  public void resume() {
    call("resume");
  }

  /** Ends the child's standard input and waits for it to exit; kills it if it does not. */
  @Override
  public void close() {
    Process p = process;
    if (p == null) {
      return;
    }
    try {
      commands.close();
      if (!p.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void call(String name) {
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException("the forked Kafka broker is not running");
    }
    commands.println(name);
    await("OK", COMMAND_TIMEOUT);
  }

  /** The text after {@code expected}, the child's next answer; throws on an error answer. */
  private String await(String expected, Duration timeout) {
    String answer;
    try {
      answer = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the forked Kafka broker", e);
    }
    if (answer == null) {
      throw new IllegalStateException(
          "the forked Kafka broker (pid "
              + process.pid()
              + ") did not answer "
              + expected
              + " within "
              + timeout.toSeconds()
              + " s");
    }
    if (!answer.startsWith(expected)) {
      throw new IllegalStateException(
          "the forked Kafka broker (pid " + process.pid() + ") answered: " + answer);
    }
    return answer.substring(expected.length()).trim();
  }

  private void readAnswers() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.startsWith(ANSWER)) {
          answers.add(line.substring(ANSWER.length()));
        } else {
          System.out.println(line);
        }
      }
    } catch (IOException e) {
      // the child's output closed
    }
    answers.add("EXITED: the forked Kafka broker's output ended (did it fail? see its output)");
  }

  /**
   * The child: starts a broker with the {@code key=value} settings of {@code args}, answers {@code
   * READY host:port data-directory}, then serves {@code restart}, {@code pause} and {@code resume}
   * (answering {@code OK} or {@code ERROR message}) until its standard input ends, and stops the
   * broker.
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> settings = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, was '" + arg + "'");
      }
      settings.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    InProcessKafkaBroker broker = new InProcessKafkaBroker(settings);
    try {
      broker.start();
    } catch (RuntimeException e) {
      answer("ERROR " + e);
      broker.close();
      System.exit(1);
    }
    answer("READY " + broker.bootstrapServers() + " " + broker.baseDir());
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        try {
          switch (line.trim()) {
            case "restart" -> broker.restart();
            case "pause" -> broker.pause();
            case "resume" -> broker.resume();
            default -> throw new IllegalArgumentException("unknown command '" + line + "'");
          }
          answer("OK");
        } catch (RuntimeException e) {
          answer("ERROR " + e);
        }
      }
    } finally {
      broker.close();
    }
    System.exit(0);
  }

  private static void answer(String line) {
    System.out.println(ANSWER + line);
    System.out.flush();
  }
}
