package io.sluice.kafka.receiver.internal;

import java.util.List;
import java.util.Map;

/**
 * Stores one poll's records as one block with its marks; returns once both are stored (in the
 * write-ahead log, when the context keeps one). The receiver's {@code store(List, Map)}, or a
 * test's wrapper of it.
 */
@FunctionalInterface
public interface BlockWriter {

  /** Stores {@code block} and {@code marks}; throws when they are not stored. */
  void write(List<ReceivedRecord> block, Map<String, String> marks);
}
