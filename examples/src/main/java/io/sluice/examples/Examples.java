package io.sluice.examples;

import java.io.PrintStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The examples' command line: {@code demo} (the README's exactly-once orders ETL), {@code
 * wordcount}, {@code kafka-to-kafka}, {@code replay}, {@code sessions}, {@code receiver} and {@code
 * scale-out}. Each runs on embedded Kafka and PostgreSQL unless pointed at real ones, and the
 * checking ones exit non-zero on FAIL.
 */
@Command(
    name = "examples",
    mixinStandardHelpOptions = true,
    description = "Runnable Sluice pipelines on embedded (or real) Kafka and PostgreSQL.",
    subcommands = {
      DemoCommand.class,
      WordCountCommand.class,
      KafkaToKafkaCommand.class,
      ReplayCommand.class,
      SessionsCommand.class,
      ReceiverCommand.class,
      ScaleOutCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Examples implements Runnable {

  private final PrintStream out;

  /** Prints to {@code System.out}. */
  public Examples() {
    this(System.out);
  }

  /** Prints banners, progress and results to {@code out} (tests capture it). */
  public Examples(PrintStream out) {
    this.out = out;
  }

  /** Where the commands print. */
  PrintStream out() {
    return out;
  }

  /** Without a subcommand: prints the usage. */
  @Override
  public void run() {
    new CommandLine(this).usage(out);
  }

  /** A command line for {@code out}, as {@link #main} uses it. */
  public static CommandLine commandLine(PrintStream out) {
    return new CommandLine(new Examples(out)).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /** Runs a command and exits with its code (0 PASS, 1 FAIL, 2 usage error). */
  public static void main(String[] args) {
    System.exit(commandLine(System.out).execute(args));
  }
}
