package io.sluice.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Finds free TCP ports on 127.0.0.1. */
public final class Ports {

  private Ports() {}

  /**
   * Returns a port that was free on 127.0.0.1 a moment ago. Another process may take it before the
   * caller binds it, so callers retry with a new port when binding fails.
   */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
    }
  }
}
