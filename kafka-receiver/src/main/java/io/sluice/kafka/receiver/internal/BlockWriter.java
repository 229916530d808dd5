package io.sluice.kafka.receiver.internal;

import java.util.List;

/**
 * Stores one poll's records as one block; returns once the block is stored (in the write-ahead log,
 * when the context keeps one). The receiver's {@code store(List)}, or a test's wrapper of it.
 */
@FunctionalInterface
public interface BlockWriter {

  /** Stores {@code block}; throws when it is not stored. */
  void write(List<ReceivedRecord> block);
}
