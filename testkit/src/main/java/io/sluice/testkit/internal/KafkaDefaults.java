package io.sluice.testkit.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Broker settings every testkit Kafka gets, before the user's overrides. */
public final class KafkaDefaults {

  private KafkaDefaults() {}

  /** The settings, in a stable order. */
  public static Map<String, String> settings() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("transaction.max.timeout.ms", "3600000");
    // Timed-out transactions are aborted within a second instead of ten, so tests that use a
    // short transaction.timeout.ms see the abort quickly.
    settings.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
    // A single node cannot hold more than one replica of the internal topics.
    settings.put("offsets.topic.replication.factor", "1");
    settings.put("offsets.topic.num.partitions", "1");
    settings.put("transaction.state.log.replication.factor", "1");
    settings.put("transaction.state.log.min.isr", "1");
    settings.put("transaction.state.log.num.partitions", "1");
    settings.put("share.coordinator.state.topic.replication.factor", "1");
    settings.put("share.coordinator.state.topic.min.isr", "1");
    settings.put("share.coordinator.state.topic.num.partitions", "1");
    settings.put("min.insync.replicas", "1");
    settings.put("default.replication.factor", "1");
    settings.put("group.initial.rebalance.delay.ms", "0");
    // Topics must be created explicitly, so a misspelt topic name fails fast instead of
    // silently creating an empty topic.
    settings.put("auto.create.topics.enable", "false");
    // The default 128 MiB compaction buffer would dominate the heap of a test JVM.
    settings.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
    settings.put("num.network.threads", "2");
    settings.put("num.io.threads", "4");
    settings.put("background.threads", "4");
    return Collections.unmodifiableMap(settings);
  }
}
