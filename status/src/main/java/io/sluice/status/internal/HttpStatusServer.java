package io.sluice.status.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.status.EngineStatus;
import io.sluice.engine.status.StatusServerProvider.StatusServer;
import io.sluice.engine.status.StatusSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status server on the JDK's {@link HttpServer}: read-only GET/HEAD endpoints, a bearer token
 * checked on every request when set, two daemon threads {@code sluice-status-http-N}. Owns its
 * Prometheus registry, which the context joins to its own so every {@code sluice.*} meter reaches
 * it, with the common tag {@code app}.
 */
final class HttpStatusServer implements StatusServer {

  private static final Logger LOG = LoggerFactory.getLogger(HttpStatusServer.class);

  /** Batches remembered, and the most one request may ask for. */
  static final int HISTORY = 200;

  /** Batches the page asks for. */
  static final int PAGE_BATCHES = 60;

  private static final String UPLOT = "META-INF/resources/webjars/uplot/%s/dist/%s";
  private static final String OWN = "io/sluice/status/internal/";
  private static final Map<String, String> STATIC =
      Map.of(
          "/static/status.js",
          OWN + "status.js",
          "/static/status.css",
          OWN + "status.css",
          "/static/uPlot.iife.min.js",
          "uplot:uPlot.iife.min.js",
          "/static/uPlot.min.css",
          "uplot:uPlot.min.css");

  private final StatusSettings settings;
  private final PrometheusMeterRegistry registry;
  private final BatchTracker tracker = new BatchTracker(HISTORY);
  private final HttpServer server;
  private final ExecutorService executor;
  private final URI uri;
  private final byte[] token;
  private final ObjectMapper json = new ObjectMapper();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile StatusViews views;

  private HttpStatusServer(StatusSettings settings, HttpServer server, ExecutorService executor) {
    this.settings = settings;
    this.server = server;
    this.executor = executor;
    this.token = settings.token().map(t -> t.getBytes(StandardCharsets.UTF_8)).orElse(null);
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags(Tags.of("app", settings.appName()));
    InetSocketAddress bound = server.getAddress();
    String host = bound.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    this.uri = URI.create("http://" + host + ":" + bound.getPort() + "/");
  }

  /**
   * Binds a server for {@code settings}; it answers 503 until {@link #attach}.
   *
   * @throws IllegalArgumentException when the host does not resolve or the port cannot be bound
   */
  static HttpStatusServer open(StatusSettings settings) {
    InetAddress address;
    try {
      address = InetAddress.getByName(settings.host());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "statusServer host does not resolve, was '" + settings.host() + "'", e);
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(address, settings.port()), 16);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "statusServer cannot listen on "
              + settings.host()
              + ":"
              + settings.port()
              + " ("
              + e.getMessage()
              + "); pick a free port, or 0 for any",
          e);
    }
    AtomicInteger n = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "sluice-status-http-" + n.getAndIncrement());
              t.setDaemon(true);
              t.setUncaughtExceptionHandler(
                  (th, e) -> LOG.error("status server thread {} failed", th.getName(), e));
              return t;
            });
    server.setExecutor(executor);
    HttpStatusServer s = new HttpStatusServer(settings, server, executor);
    server.createContext("/", s::handle);
    server.start();
    return s;
  }

  @Override
  public MeterRegistry meterRegistry() {
    return registry;
  }

  @Override
  public void attach(StreamingContext ctx, EngineStatus engine) {
    this.views = new StatusViews(settings, tracker, registry, engine, () -> ctx.state().name());
    ctx.addStreamingListener(tracker);
    StatusServers.register(ctx, this);
    LOG.info(
        "status page of '{}' at {}{}",
        settings.appName(),
        uri,
        token == null ? "" : " (bearer token required)");
  }

  /** The base address, e.g. {@code http://127.0.0.1:4040/}. */
  URI uri() {
    return uri;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      StatusServers.unregister(this);
      server.stop(0);
      executor.shutdownNow();
      try {
        executor.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      LOG.info("status page of '{}' at {} closed", settings.appName(), uri);
    }
  }

  // ---------------------------------------------------------------- requests

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      try {
        respond(ex);
      } catch (RuntimeException e) {
        // nothing was sent yet: every response is built before its headers go out
        LOG.warn("status request {} failed", ex.getRequestURI().getPath(), e);
        send(ex, 500, "text/plain; charset=utf-8", "internal error\n");
      }
    }
  }

  private void respond(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    if (!authorized(ex)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"sluice\"");
      send(ex, 401, "text/plain; charset=utf-8", "missing or wrong bearer token\n");
      return;
    }
    String method = ex.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      ex.getResponseHeaders().set("Allow", "GET, HEAD");
      send(ex, 405, "text/plain; charset=utf-8", "read-only: GET or HEAD\n");
      return;
    }
    StatusViews v = views;
    if (v == null) {
      send(ex, 503, "text/plain; charset=utf-8", "starting\n");
      return;
    }
    route(ex, v);
  }

  private void route(HttpExchange ex, StatusViews v) throws IOException {
    String path = ex.getRequestURI().getPath();
    String query = ex.getRequestURI().getRawQuery();
    switch (path) {
      case "/", "/index.html" -> page(ex);
      case "/metrics" ->
          send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
      case "/api/v1/status" -> sendJson(ex, status(query, v));
      case "/api/v1/app" -> sendJson(ex, v.app());
      case "/api/v1/batches" -> sendJson(ex, batches(query, v));
      case "/api/v1/streams" -> sendJson(ex, v.streams());
      case "/api/v1/errors" -> sendJson(ex, v.errors());
      case "/api/v1/receivers" -> sendJson(ex, v.receivers());
      case "/api/v1/stateOperators" -> sendJson(ex, v.stateOperators());
      default -> {
        String resource = STATIC.get(path);
        if (resource == null) {
          send(ex, 404, "text/plain; charset=utf-8", "not found: " + path + "\n");
        } else {
          resource(ex, resource);
        }
      }
    }
  }

  private static Object status(String query, StatusViews v) {
    int limit = StatusViews.parseLimit(query).orElse(PAGE_BATCHES);
    return v.status(Math.max(0, Math.min(HISTORY, limit)));
  }

  private static Object batches(String query, StatusViews v) {
    int limit = StatusViews.parseLimit(query).orElse(HISTORY);
    return v.batches(Math.max(0, Math.min(HISTORY, limit)));
  }

  private boolean authorized(HttpExchange ex) {
    if (token == null) {
      return true;
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    String presented = null;
    if (header != null && header.startsWith("Bearer ")) {
      presented = header.substring(7).strip();
    } else {
      presented = queryToken(ex.getRequestURI().getRawQuery());
    }
    return presented != null
        && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
  }

  private static String queryToken(String rawQuery) {
    if (rawQuery == null) {
      return null;
    }
    for (String part : rawQuery.split("&")) {
      if (part.startsWith("token=")) {
        return java.net.URLDecoder.decode(part.substring(6), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private void page(HttpExchange ex) throws IOException {
    // A browser cannot put the token in a header for <script src>: when the page was opened with
    // ?token=..., the same token goes on the page's own asset and API addresses.
    String q =
        token == null
            ? ""
            : "?token="
                + URLEncoder.encode(
                    new String(token, StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    String html =
        new String(read(OWN + "index.html"), StandardCharsets.UTF_8)
            .replace("{{app}}", escape(settings.appName()))
            .replace("{{q}}", q);
    ex.getResponseHeaders()
        .set(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    send(ex, 200, "text/html; charset=utf-8", html);
  }

  private void resource(HttpExchange ex, String resource) throws IOException {
    String name = resource;
    if (resource.startsWith("uplot:")) {
      name = String.format(UPLOT, UplotVersion.VERSION, resource.substring(6));
    }
    String type =
        name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    ex.getResponseHeaders().set("Content-Type", type);
    byte[] body = read(name);
    sendBytes(ex, 200, body);
  }

  private static byte[] read(String name) {
    try (InputStream in = HttpStatusServer.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource missing from the class path: " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void sendJson(HttpExchange ex, Object value) throws IOException {
    send(ex, 200, "application/json", json.writeValueAsString(value));
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    sendBytes(ex, status, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void sendBytes(HttpExchange ex, int status, byte[] body) throws IOException {
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : body.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  /** The version of the uPlot webjar on the class path, from its Maven metadata. */
  static final class UplotVersion {
    static final String VERSION = load();

    private static String load() {
      Properties p = new Properties();
      try (InputStream in =
          HttpStatusServer.class
              .getClassLoader()
              .getResourceAsStream("META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
        if (in == null) {
          throw new IllegalStateException(
              "the uPlot webjar (org.webjars.npm:uplot) is missing from the class path");
        }
        p.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return p.getProperty("version");
    }
  }
}
