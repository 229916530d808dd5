package io.sluice.engine.state.internal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** The meters of a state operator, tagged with the application and the operator's name. */
public final class StateOperatorMeters {

  private StateOperatorMeters() {}

  /**
   * Registers {@code sluice.state.keys} for {@code op}, once it is open (its name is final then).
   * The registry holds the operator for the context's life.
   */
  public static void register(MeterRegistry registry, String app, StateOperator<?, ?> op) {
    Gauge.builder("sluice.state.keys", op, StateOperator::keyCount)
        .description("keys the state operator holds, as of its last persisted batch")
        .tags("app", app, "operator", op.name())
        .strongReference(true)
        .register(registry);
  }
}
