package io.sluice.status;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code chromium} in headless mode, one process per call: {@code --dump-dom} for the DOM
 * after the page's scripts ran, {@code --screenshot} for a PNG.
 */
final class HeadlessChromium {

  private final Path binary;
  private final Path profile;

  private HeadlessChromium(Path binary, Path profile) {
    this.binary = binary;
    this.profile = profile;
  }

  /** The browser on the PATH ({@code chromium}, {@code chromium-browser}), or empty. */
  static Optional<HeadlessChromium> find(Path profile) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String name : List.of("chromium", "chromium-browser")) {
      for (String dir : path.split(File.pathSeparator)) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return Optional.of(new HeadlessChromium(candidate, profile));
        }
      }
    }
    return Optional.empty();
  }

  /** The DOM of {@code url} once {@code budgetMillis} of virtual time passed. */
  String dumpDom(String url, int budgetMillis) {
    return run(List.of("--dump-dom", "--virtual-time-budget=" + budgetMillis, url));
  }

  /** Saves a screenshot of {@code url} at the given window size. */
  void screenshot(String url, Path png, int width, int height, int budgetMillis) {
    run(
        List.of(
            "--screenshot=" + png.toAbsolutePath(),
            "--window-size=" + width + "," + height,
            "--hide-scrollbars",
            "--virtual-time-budget=" + budgetMillis,
            url));
    if (!Files.isRegularFile(png)) {
      throw new AssertionError("chromium wrote no screenshot to " + png);
    }
  }

  private String run(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.addAll(
        List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--user-data-dir=" + profile.toAbsolutePath()));
    cmd.addAll(args);
    try {
      Path err = Files.createTempFile(profile.getParent(), "chromium", ".log");
      Process p =
          new ProcessBuilder(cmd)
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("chromium did not finish within 90 s: " + cmd);
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(
            "chromium exited with "
                + p.exitValue()
                + ": "
                + cmd
                + "\n"
                + Files.readString(err, StandardCharsets.UTF_8));
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
