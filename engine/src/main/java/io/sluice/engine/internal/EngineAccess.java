package io.sluice.engine.internal;

import io.sluice.engine.StreamingContext;
import java.util.function.Function;

/**
 * Lets engine classes in other packages reach a context's runtime without making it public API. The
 * context class installs the accessor in its static initializer.
 */
public final class EngineAccess {

  private static volatile Function<StreamingContext, EngineRuntime> accessor;

  private EngineAccess() {}

  /** Called once by {@link StreamingContext}'s static initializer. */
  public static void install(Function<StreamingContext, EngineRuntime> a) {
    accessor = a;
  }

  /** The runtime of {@code context}. */
  public static EngineRuntime runtime(StreamingContext context) {
    Function<StreamingContext, EngineRuntime> a = accessor;
    if (a == null) {
      throw new IllegalStateException("StreamingContext not initialized");
    }
    return a.apply(context);
  }
}
