package io.sluice.status.internal;

import io.sluice.engine.status.StatusServerProvider;
import io.sluice.engine.status.StatusSettings;

/** The provider {@code StreamingContext.builder().statusServer(port)} finds on the class path. */
public final class HttpStatusServerProvider implements StatusServerProvider {

  /** For {@link java.util.ServiceLoader}. */
  public HttpStatusServerProvider() {}

  @Override
  public StatusServer open(StatusSettings settings) {
    return HttpStatusServer.open(settings);
  }
}
