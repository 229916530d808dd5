package io.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher scripts a newcomer runs first print their help and nothing on stderr: no warning, no
 * {@code find} error, no rebuild. The reactor has built the examples and the {@code sluice}
 * executable jar before this module's tests ({@code sluice-examples} is a test dependency of this
 * module for that reason), so neither script builds anything here; if one did, its "building"
 * notice on stderr fails the test.
 */
class LauncherScriptsTest {

  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

  @Test
  void demoHelpPrintsUsageAndNothingOnStderr(@TempDir Path tmp) throws Exception {
    Result result = run(tmp, List.of("./demo", "--help"));

    assertThat(result.stderr()).as("stderr of ./demo --help").isEmpty();
    assertThat(result.exitCode()).as("exit code of ./demo --help").isZero();
    assertThat(result.stdout()).contains("Usage:").contains("--duration");
  }

  @Test
  void sluiceOffsetsHelpPrintsUsageAndNothingOnStderr(@TempDir Path tmp) throws Exception {
    Result result = run(tmp, List.of("offsets/bin/sluice", "offsets", "--help"));

    assertThat(result.stderr()).as("stderr of offsets/bin/sluice offsets --help").isEmpty();
    assertThat(result.exitCode()).as("exit code of offsets/bin/sluice offsets --help").isZero();
    assertThat(result.stdout()).contains("Usage: sluice offsets").contains("reset");
  }

  @Test
  void sluiceVersionIsTheProjectVersion(@TempDir Path tmp) throws Exception {
    Result result = run(tmp, List.of("offsets/bin/sluice", "--version"));

    assertThat(result.stderr()).as("stderr of offsets/bin/sluice --version").isEmpty();
    assertThat(result.exitCode()).isZero();
    assertThat(result.stdout().strip()).isEqualTo("sluice " + System.getProperty("sluice.version"));
  }

  private record Result(int exitCode, String stdout, String stderr) {}

  /**
   * Runs a script from the repository root, output to files (no pipe to fill), killed at the end.
   */
  private static Result run(Path tmp, List<String> command)
      throws IOException, InterruptedException {
    Path out = tmp.resolve("stdout.txt");
    Path err = tmp.resolve("stderr.txt");
    Process process =
        new ProcessBuilder(command)
            .directory(ROOT.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try {
      boolean exited = process.waitFor(120, TimeUnit.SECONDS);
      assertThat(exited).as("%s exited within 120 s", command).isTrue();
      return new Result(
          process.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
