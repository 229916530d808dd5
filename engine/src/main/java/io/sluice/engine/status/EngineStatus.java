package io.sluice.engine.status;

import java.util.List;

/**
 * What a status server reads of a context beyond its listener events and meters: its receivers and
 * its state operators, as they stand at the call. Handed to {@link
 * StatusServerProvider.StatusServer#attach}. Thread-safe and cheap: every call takes a fresh
 * snapshot without waiting for a batch.
 */
public interface EngineStatus {

  /** Every receiver stream, in creation order; empty when the application has none. */
  List<ReceiverStatus> receivers();

  /** Every state operator ({@code mapWithState}, {@code updateStateByKey}), in creation order. */
  List<StateOperatorStatus> stateOperators();
}
