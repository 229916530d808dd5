package io.sluice.engine.status;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.engine.StreamingContext;

/**
 * Creates the status server of a context; found with {@link java.util.ServiceLoader} when the
 * builder was given {@code statusServer(port)}. Implementations are listed in {@code
 * META-INF/services/io.sluice.engine.status.StatusServerProvider}.
 */
public interface StatusServerProvider {

  /**
   * Opens a server for {@code settings}: binds its socket and returns it, not yet attached to a
   * context. Called by {@code StreamingContext.Builder.build()} on the building thread.
   *
   * @throws IllegalArgumentException when the settings cannot be served (the host does not resolve,
   *     the port is taken), naming the setting and its value
   */
  StatusServer open(StatusSettings settings);

  /** A server opened by {@link #open}; the context attaches itself once built. */
  interface StatusServer {

    /**
     * A registry the context adds to its own (through a composite), so that the server sees every
     * {@code sluice.*} meter; null when it needs none.
     */
    MeterRegistry meterRegistry();

    /**
     * Called once by {@code build()} with the new context and what can be read of its receivers and
     * state operators: the server registers its listener and starts answering requests. If it
     * throws, {@code build()} fails with it and the server is closed.
     */
    void attach(StreamingContext context, EngineStatus engine);

    /** Stops answering requests and frees the port; idempotent. */
    void close();
  }
}
