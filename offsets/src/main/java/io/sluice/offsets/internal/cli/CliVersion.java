package io.sluice.offsets.internal.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code sluice --version}: the project version Maven wrote into {@code version.properties} when it
 * built this class, so a checkout's classes and the executable jar report the same version.
 */
public final class CliVersion implements IVersionProvider {

  /** Created by picocli. */
  public CliVersion() {}

  /** The version of this build, e.g. {@code 0.1.0}, or {@code unknown} when run unbuilt. */
  public static String version() {
    Properties props = new Properties();
    try (InputStream in = CliVersion.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      props.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return props.getProperty("version", "unknown");
  }

  @Override
  public String[] getVersion() {
    return new String[] {"sluice " + version()};
  }
}
