/**
 * Receivers: long-running tasks that push records into the engine, for sources without replayable
 * offsets (sockets, queues, devices). See {@link io.sluice.engine.receiver.Receiver}.
 */
package io.sluice.engine.receiver;
