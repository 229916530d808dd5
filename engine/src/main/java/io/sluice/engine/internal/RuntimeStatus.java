package io.sluice.engine.internal;

import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.state.internal.StateOperator;
import io.sluice.engine.status.EngineStatus;
import io.sluice.engine.status.ReceiverStatus;
import io.sluice.engine.status.StateOperatorStatus;
import java.util.ArrayList;
import java.util.List;

/** The {@link EngineStatus} of a runtime: reads its graph's receiver streams and its operators. */
final class RuntimeStatus implements EngineStatus {

  private final EngineRuntime runtime;

  RuntimeStatus(EngineRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public List<ReceiverStatus> receivers() {
    List<ReceiverStatus> out = new ArrayList<>();
    for (InputDStream<?, ?> in : runtime.graph().inputs()) {
      if (in instanceof ReceiverStatusSource source) {
        out.add(source.receiverStatus());
      }
    }
    return List.copyOf(out);
  }

  @Override
  public List<StateOperatorStatus> stateOperators() {
    List<StateOperatorStatus> out = new ArrayList<>();
    for (StateOperator<?, ?> op : runtime.stateOperators()) {
      out.add(
          new StateOperatorStatus(
              op.name(),
              op.followsSources() ? op.partitionsHeld() : op.numPartitions(),
              op.keyCount()));
    }
    return List.copyOf(out);
  }
}
