package io.sluice.status;

import static io.sluice.status.StatusTestSupport.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The server's settings, its token, its read-only endpoints and where it listens. */
class StatusServerTest {

  private static StreamingContext.Builder builder(String app) {
    return StreamingContext.builder()
        .appName(app)
        .batchInterval(Duration.ofMillis(200))
        .clock(new ManualClock());
  }

  @Test
  void everyRequestNeedsTheBearerTokenWhenOneIsSet() {
    StreamingContext ctx = builder("status-token").statusServer(0).statusToken("s3cret").build();
    try {
      URI base = SluiceStatus.uri(ctx).orElseThrow();
      for (String path :
          new String[] {"/", "/api/v1/app", "/metrics", "/static/status.js", "/nope"}) {
        HttpResponse<String> none = get(base.resolve(path));
        assertThat(none.statusCode()).as(path).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate"))
            .hasValue("Bearer realm=\"sluice\"");
        assertThat(get(base.resolve(path), "wrong").statusCode()).as(path).isEqualTo(401);
      }
      assertThat(get(base.resolve("/api/v1/app"), "s3cret").statusCode()).isEqualTo(200);
      assertThat(get(base.resolve("/metrics"), "s3cret").statusCode()).isEqualTo(200);
      // a browser opens the page with ?token=, and the page carries it to its assets and API calls
      HttpResponse<String> page = get(base.resolve("/?token=s3cret"));
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body())
          .contains("src=\"static/status.js?token=s3cret\"")
          .contains("data-query=\"?token=s3cret\"");
      assertThat(get(base.resolve("/static/uPlot.iife.min.js?token=s3cret")).statusCode())
          .isEqualTo(200);
      assertThat(get(base.resolve("/api/v1/app?token=wrong")).statusCode()).isEqualTo(401);
    } finally {
      SluiceStatus.close(ctx);
    }
  }

  @Test
  void endpointsAreReadOnlyAndTheAssetsComeFromTheJar() {
    StreamingContext ctx = builder("status-read-only").statusServer(0).build();
    try {
      URI base = SluiceStatus.uri(ctx).orElseThrow();
      for (String method : new String[] {"POST", "PUT", "DELETE", "PATCH"}) {
        HttpResponse<String> r =
            StatusTestSupport.send(
                HttpRequest.newBuilder(base.resolve("/api/v1/app"))
                    .method(method, HttpRequest.BodyPublishers.ofString("{}"))
                    .build());
        assertThat(r.statusCode()).as(method).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
      }
      HttpResponse<String> page = get(base);
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
          .startsWith("default-src 'self'");
      assertThat(page.body()).doesNotContain("http://").doesNotContain("https://");
      HttpResponse<String> uplot = get(base.resolve("/static/uPlot.iife.min.js"));
      assertThat(uplot.statusCode()).isEqualTo(200);
      assertThat(uplot.body()).contains("uPlot");
      assertThat(get(base.resolve("/static/uPlot.min.css")).statusCode()).isEqualTo(200);
      assertThat(get(base.resolve("/api/v1/nothing")).statusCode()).isEqualTo(404);
      // before start: the context is there, with no batch yet
      assertThat(get(base.resolve("/api/v1/app")).body())
          .contains("\"state\":\"INITIALIZED\"")
          .contains("\"lastCompletedBatchId\":-1");
    } finally {
      SluiceStatus.close(ctx);
    }
  }

  @Test
  void listensOnLoopbackOnlyUnlessAHostIsGiven() throws IOException {
    Optional<InetAddress> external = nonLoopbackAddress();
    assumeThat(external).as("a non-loopback IPv4 address on this machine").isPresent();
    StreamingContext loopback = builder("status-loopback").statusServer(0).build();
    StreamingContext everywhere = builder("status-everywhere").statusServer("0.0.0.0", 0).build();
    try {
      URI local = SluiceStatus.uri(loopback).orElseThrow();
      assertThat(local.getHost()).isEqualTo("127.0.0.1");
      assertThat(get(local.resolve("/api/v1/app")).statusCode()).isEqualTo(200);
      assertThatThrownBy(() -> connect(external.get(), local.getPort()))
          .isInstanceOf(ConnectException.class);
      // the control: with a host given, the same address reaches it
      int port = SluiceStatus.uri(everywhere).orElseThrow().getPort();
      connect(external.get(), port);
      URI viaExternal =
          URI.create("http://" + external.get().getHostAddress() + ":" + port + "/api/v1/app");
      assertThat(get(viaExternal).statusCode()).isEqualTo(200);
    } finally {
      SluiceStatus.close(loopback);
      SluiceStatus.close(everywhere);
    }
  }

  @Test
  void badSettingsFailAtBuildNamingTheSetting() throws IOException {
    assertThatThrownBy(() -> builder("a").statusServer(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("statusServer port must be in 0..65535, was -1");
    assertThatThrownBy(() -> builder("a").statusServer(65_536).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("statusServer port must be in 0..65535, was 65536");
    assertThatThrownBy(() -> builder("a").statusServer(" ", 0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("statusServer host must not be blank, was ' '");
    assertThatThrownBy(() -> builder("a").statusServer(0).statusToken(" ").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "statusToken must not be blank nor start or end with white space (value not shown)");
    assertThatThrownBy(() -> builder("a").statusToken("t").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("statusToken is set but statusServer is not; set statusServer(port) too");
    assertThatThrownBy(() -> builder("a").statusServer("no-such-host.invalid", 0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("statusServer host does not resolve, was 'no-such-host.invalid'");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> builder("a").statusServer(port).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("statusServer cannot listen on 127.0.0.1:" + port + " (")
          .hasMessageEndingWith("); pick a free port, or 0 for any");
    }
  }

  private static void connect(InetAddress address, int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, port), 2000);
    }
  }

  private static Optional<InetAddress> nonLoopbackAddress() throws SocketException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }
}
