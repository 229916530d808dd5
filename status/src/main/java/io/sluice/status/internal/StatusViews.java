package io.sluice.status.internal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.status.EngineStatus;
import io.sluice.engine.status.ReceiverStatus;
import io.sluice.engine.status.ReceiverStatus.ReceiverError;
import io.sluice.engine.status.StateOperatorStatus;
import io.sluice.engine.status.StatusSettings;
import io.sluice.status.internal.BatchTracker.Row;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The JSON documents of {@code /api/v1/...}, built from the tracker's batches, the registry's
 * {@code sluice.*} meters and the engine's receivers and state operators. Every document is a tree
 * of maps, lists, strings and numbers, with keys in a fixed order; absent values are {@code null}.
 * Thread-safe.
 */
final class StatusViews {

  static final String LAG = "sluice.kafka.partition.lag";
  static final String COMMITTED = "sluice.kafka.partition.committed";

  private final StatusSettings settings;
  private final BatchTracker tracker;
  private final MeterRegistry registry;
  private final EngineStatus engine;
  private final Supplier<String> contextState;

  StatusViews(
      StatusSettings settings,
      BatchTracker tracker,
      MeterRegistry registry,
      EngineStatus engine,
      Supplier<String> contextState) {
    this.settings = settings;
    this.tracker = tracker;
    this.registry = registry;
    this.engine = engine;
    this.contextState = contextState;
  }

  /** How often the page polls: the batch interval, at most once a second. */
  long refreshMillis() {
    return Math.max(1000, settings.batchInterval().toMillis());
  }

  /** {@code /api/v1/app}. */
  Map<String, Object> app() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("app", settings.appName());
    out.put("state", contextState.get());
    out.put("batchIntervalMs", settings.batchInterval().toMillis());
    out.put("refreshMs", refreshMillis());
    out.put("serverTime", Instant.now().toString());
    out.putAll(tracker.counts());
    return out;
  }

  /** {@code /api/v1/batches}: the last {@code limit} batches, newest first. */
  List<Map<String, Object>> batches(int limit) {
    List<Row> rows = tracker.rows();
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = rows.size() - 1; i >= 0 && out.size() < limit; i--) {
      out.add(batch(rows.get(i)));
    }
    return out;
  }

  private static Map<String, Object> batch(Row row) {
    BatchInfo b = row.info();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("batchId", b.batchId());
    out.put("batchTime", b.batchTime().toString());
    out.put("state", row.state().name().toLowerCase(Locale.ROOT));
    out.put("records", b.numRecords());
    out.put("inputRecords", b.inputRecords());
    out.put("submissionTime", b.submissionTime().toString());
    out.put("processingStartTime", b.processingStartTime().map(Instant::toString).orElse(null));
    out.put("processingEndTime", b.processingEndTime().map(Instant::toString).orElse(null));
    out.put("schedulingDelayMs", BatchTracker.millis(b.schedulingDelay()));
    out.put("processingTimeMs", BatchTracker.millis(b.processingTime()));
    out.put("totalDelayMs", BatchTracker.millis(b.totalDelay()));
    out.put("failure", row.failure());
    out.put("failedOutputs", row.failedOutputs());
    return out;
  }

  /** {@code /api/v1/streams}: every input stream, in registration order. */
  List<Map<String, Object>> streams() {
    Map<String, List<Map<String, Object>>> partitions = partitions();
    Set<String> names = new LinkedHashSet<>(tracker.inputs());
    names.addAll(partitions.keySet());
    List<Row> rows = tracker.rows();
    long lastCompleted = tracker.counts().get("lastCompletedBatchId");
    double seconds = settings.batchInterval().toMillis() / 1000.0;
    List<Map<String, Object>> out = new ArrayList<>();
    for (String name : names) {
      List<Map<String, Object>> batches = new ArrayList<>();
      for (Row row : rows) {
        Long records = row.info().inputRecords().get(name);
        if (records != null && row.state() == BatchTracker.State.COMPLETED) {
          Map<String, Object> b = new LinkedHashMap<>();
          b.put("batchId", row.info().batchId());
          b.put("batchTime", row.info().batchTime().toString());
          b.put("records", records);
          b.put("inputRate", records / seconds);
          batches.add(b);
        }
      }
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("name", name);
      s.put("lastCommittedBatchId", lastCompleted < 0 ? null : lastCompleted);
      s.put("batches", batches);
      s.put("partitions", partitions.getOrDefault(name, List.of()));
      out.add(s);
    }
    return out;
  }

  /** Per stream, its partitions' committed offsets and lag, by topic then partition. */
  private Map<String, List<Map<String, Object>>> partitions() {
    Map<String, TreeMap<String, Map<String, Object>>> byStream = new TreeMap<>();
    collect(byStream, LAG, "lag");
    collect(byStream, COMMITTED, "committedOffset");
    Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
    byStream.forEach((stream, parts) -> out.put(stream, List.copyOf(parts.values())));
    return out;
  }

  private void collect(
      Map<String, TreeMap<String, Map<String, Object>>> byStream, String meter, String key) {
    List<Gauge> gauges = new ArrayList<>(registry.find(meter).gauges());
    gauges.sort(Comparator.comparing(g -> g.getId().getTag("partition")));
    for (Gauge g : gauges) {
      String stream = g.getId().getTag("stream");
      String topic = g.getId().getTag("topic");
      String partition = g.getId().getTag("partition");
      if (stream == null || topic == null || partition == null) {
        continue;
      }
      String sortKey =
          topic + "\u0000" + String.format(Locale.ROOT, "%010d", Integer.valueOf(partition));
      Map<String, Object> p =
          byStream
              .computeIfAbsent(stream, k -> new TreeMap<>())
              .computeIfAbsent(
                  sortKey,
                  k -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("topic", topic);
                    m.put("partition", Integer.valueOf(partition));
                    m.put("committedOffset", null);
                    m.put("lag", null);
                    return m;
                  });
      p.put(key, (long) g.value());
    }
  }

  /** {@code /api/v1/errors}: errors outside batches, oldest first. */
  List<Map<String, Object>> errors() {
    List<Map<String, Object>> out = new ArrayList<>();
    tracker
        .errors()
        .forEach(
            e -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("time", e.time().toString());
              m.put("message", e.message());
              out.add(m);
            });
    return out;
  }

  /** {@code /api/v1/receivers}: every receiver stream, in creation order. */
  List<Map<String, Object>> receivers() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ReceiverStatus r : engine.receivers()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("stream", r.stream());
      m.put("receiver", r.receiver());
      m.put("state", r.state().name().toLowerCase(Locale.ROOT));
      m.put("records", r.records());
      m.put("recordsPerSecond", r.recordsPerSecond());
      m.put("blocks", r.blocks());
      m.put("restarts", r.restarts());
      m.put("errors", r.errors());
      m.put("lastError", r.lastError().map(ReceiverError::message).orElse(null));
      m.put("lastErrorTime", r.lastError().map(e -> e.time().toString()).orElse(null));
      out.add(m);
    }
    return out;
  }

  /** {@code /api/v1/stateOperators}: every state operator, in creation order. */
  List<Map<String, Object>> stateOperators() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (StateOperatorStatus op : engine.stateOperators()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", op.name());
      m.put("partitions", op.partitions());
      m.put("keys", op.keys());
      out.add(m);
    }
    return out;
  }

  /** {@code /api/v1/status}: everything the page shows. */
  Map<String, Object> status(int limit) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("app", app());
    out.put("streams", streams());
    out.put("batches", batches(limit));
    out.put("errors", errors());
    out.put("receivers", receivers());
    out.put("stateOperators", stateOperators());
    return out;
  }

  static Optional<Integer> parseLimit(String query) {
    if (query == null) {
      return Optional.empty();
    }
    for (String part : query.split("&")) {
      if (part.startsWith("limit=")) {
        try {
          return Optional.of(Integer.parseInt(part.substring(6)));
        } catch (NumberFormatException e) {
          return Optional.of(-1);
        }
      }
    }
    return Optional.empty();
  }
}
