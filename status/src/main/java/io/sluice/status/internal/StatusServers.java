package io.sluice.status.internal;

import io.sluice.engine.StreamingContext;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

/** The open status servers, by context; lets the public API find a context's server. */
public final class StatusServers {

  private static final Map<StreamingContext, HttpStatusServer> SERVERS = new WeakHashMap<>();

  private StatusServers() {}

  static synchronized void register(StreamingContext ctx, HttpStatusServer server) {
    SERVERS.put(ctx, server);
  }

  static synchronized void unregister(HttpStatusServer server) {
    SERVERS.values().removeIf(s -> s == server);
  }

  /** The base address of {@code ctx}'s open server. */
  public static synchronized Optional<URI> uri(StreamingContext ctx) {
    return Optional.ofNullable(SERVERS.get(ctx)).map(HttpStatusServer::uri);
  }

  /** Closes {@code ctx}'s server, if it has one. */
  public static void close(StreamingContext ctx) {
    HttpStatusServer server;
    synchronized (StatusServers.class) {
      server = SERVERS.get(ctx);
    }
    if (server != null) {
      server.close();
    }
  }
}
