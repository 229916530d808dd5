package io.sluice.engine.status;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a status server is asked to serve, as the context's builder validated it.
 *
 * @param appName the application name
 * @param batchInterval the batch interval (the page refreshes at most this often, and at most once
 *     a second)
 * @param host the address to bind ({@code 127.0.0.1} unless the builder was given another)
 * @param port the port to bind; 0 for a free one
 * @param token the bearer token every request must carry, if one was set
 */
public record StatusSettings(
    String appName, Duration batchInterval, String host, int port, Optional<String> token) {

  /** Validates the fields. */
  public StatusSettings {
    Objects.requireNonNull(appName, "appName");
    Objects.requireNonNull(batchInterval, "batchInterval");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(token, "token");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("statusServer port must be in 0..65535, was " + port);
    }
  }

  /** The settings, with the token masked. */
  @Override
  public String toString() {
    return "StatusSettings[appName="
        + appName
        + ", batchInterval="
        + batchInterval
        + ", host="
        + host
        + ", port="
        + port
        + ", token="
        + token.map(t -> "***").orElse("none")
        + "]";
  }
}
