package io.sluice.status;

import io.sluice.engine.StreamingContext;
import io.sluice.status.internal.StatusServers;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the status server of a context listens, and how to close it. The server itself is turned on
 * with {@code StreamingContext.builder().statusServer(port)}; it binds when the context is built,
 * serves read-only endpoints, and stays up after the context stops (so the last batches, and the
 * failure that stopped it, can still be read) until {@link #close(StreamingContext)} or the JVM
 * exits (its threads are daemons).
 *
 * <p>Endpoints: {@code /} (the page), {@code /api/v1/status} (everything the page shows, in one
 * JSON document), {@code /api/v1/app}, {@code /api/v1/batches}, {@code /api/v1/streams}, {@code
 * /api/v1/errors}, {@code /api/v1/receivers}, {@code /api/v1/stateOperators}, {@code /metrics}
 * (Prometheus text format). Thread-safe.
 */
public final class SluiceStatus {

  private SluiceStatus() {}

  /**
   * The base address of {@code ctx}'s status server (e.g. {@code http://127.0.0.1:4040/}), or empty
   * when it has none or it was closed.
   */
  public static Optional<URI> uri(StreamingContext ctx) {
    Objects.requireNonNull(ctx, "ctx");
    return StatusServers.uri(ctx);
  }

  /** Closes {@code ctx}'s status server and frees its port; idempotent. */
  public static void close(StreamingContext ctx) {
    Objects.requireNonNull(ctx, "ctx");
    StatusServers.close(ctx);
  }
}
