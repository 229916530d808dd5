package io.sluice.engine.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.sluice.engine.status.EngineStatus;
import io.sluice.engine.status.StatusServerProvider;
import io.sluice.engine.status.StatusServerProvider.StatusServer;
import io.sluice.engine.status.StatusSettings;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds the status server provider for {@code statusServer(port)} and joins its meter registry to
 * the context's, so the engine needs no HTTP server of its own.
 */
public final class StatusHook {

  /** The artifact that ships a provider, named in the error when none is found. */
  static final String ARTIFACT = "io.sluice:sluice-status";

  private StatusHook() {}

  /**
   * Opens the status server for {@code settings} with the first provider on the class path.
   *
   * @throws IllegalArgumentException when no provider is on the class path (naming the artifact to
   *     add) or the provider refuses the settings
   */
  public static StatusServer open(StatusSettings settings) {
    Iterator<StatusServerProvider> providers =
        ServiceLoader.load(StatusServerProvider.class, StatusHook.class.getClassLoader())
            .iterator();
    if (!providers.hasNext()) {
      throw new IllegalArgumentException(
          "statusServer("
              + settings.port()
              + ") needs a status server on the class path: add the dependency "
              + ARTIFACT
              + " (no "
              + StatusServerProvider.class.getName()
              + " was found)");
    }
    return providers.next().open(settings);
  }

  /**
   * The registry the context publishes its meters to: {@code own}, joined with the server's
   * registry when it has one.
   */
  public static MeterRegistry registry(MeterRegistry own, StatusServer server) {
    if (server == null || server.meterRegistry() == null) {
      return own;
    }
    return new CompositeMeterRegistry(
        io.micrometer.core.instrument.Clock.SYSTEM, List.of(own, server.meterRegistry()));
  }

  /** What a status server reads of {@code runtime}'s receivers and state operators. */
  public static EngineStatus engineStatus(EngineRuntime runtime) {
    return new RuntimeStatus(runtime);
  }
}
