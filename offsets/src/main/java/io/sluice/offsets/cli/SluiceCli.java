package io.sluice.offsets.cli;

import io.sluice.offsets.internal.cli.CliVersion;
import io.sluice.offsets.internal.cli.OffsetsCommand;
import java.io.PrintWriter;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code sluice} command line: {@code sluice offsets list|history|reset|export|import}.
 * Failures print one line on stderr and exit non-zero (2 for usage errors, 1 for everything else);
 * {@code --verbose} adds the stack trace.
 */
@Command(
    name = "sluice",
    mixinStandardHelpOptions = true,
    versionProvider = CliVersion.class,
    description = "Sluice tools.",
    subcommands = OffsetsCommand.class)
public final class SluiceCli {

  private SluiceCli() {}

  /** Runs the command and exits the JVM with its exit code. */
  public static void main(String[] args) {
    // The executable jar carries no SLF4J provider (a library leaves that to the application); keep
    // SLF4J's "no providers" notice off stderr unless the user asked for it.
    if (System.getProperty("slf4j.internal.verbosity") == null) {
      System.setProperty("slf4j.internal.verbosity", "ERROR");
    }
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(out, err, args));
  }

  /**
   * Runs the command in this JVM, writing to {@code out} and {@code err}; for tests and embedding.
   * Blocking; returns the exit code (0 success, 1 failure, 2 usage error).
   */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    CommandLine cli = new CommandLine(new SluiceCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler(
        (ex, arguments) -> {
          err.println(
              "sluice: "
                  + ex.getMessage()
                  + " (see '"
                  + ex.getCommandLine().getCommandSpec().qualifiedName()
                  + " --help')");
          if (verbose) {
            ex.printStackTrace(err);
          }
          err.flush();
          return 2;
        });
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          err.println("sluice: " + oneLine(ex));
          if (verbose) {
            ex.printStackTrace(err);
          }
          err.flush();
          return 1;
        });
    int code = cli.execute(args);
    out.flush();
    return code;
  }

  private static String oneLine(Throwable ex) {
    String message = ex.getMessage();
    if (message == null || message.isBlank()) {
      message = ex.toString();
    }
    return message.replace(System.lineSeparator(), " ").replace('\n', ' ');
  }
}
