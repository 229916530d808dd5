package io.sluice.engine.internal;

import io.sluice.engine.status.ReceiverStatus;

/** An input stream fed by a receiver, which tells how its receiver stands. */
public interface ReceiverStatusSource {

  /** How the receiver stands now; any thread. */
  ReceiverStatus receiverStatus();
}
