package io.sluice.kafka.direct.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StaleBatchException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;

/** An in-memory {@link OffsetStore} with the shared contract (monotonic batch ids), for tests. */
public final class MemoryOffsetStore implements OffsetStore {

  private final Map<String, Map<TopicPartition, Long>> offsets = new HashMap<>();
  private final Map<String, List<BatchCommit>> history = new HashMap<>();

  @Override
  public synchronized Map<TopicPartition, Long> committed(
      String group, Collection<TopicPartition> partitions) {
    Map<TopicPartition, Long> out = new HashMap<>();
    Map<TopicPartition, Long> all = offsets.getOrDefault(group, Map.of());
    partitions.forEach(
        tp -> {
          if (all.containsKey(tp)) {
            out.put(tp, all.get(tp));
          }
        });
    return out;
  }

  @Override
  public synchronized Map<TopicPartition, Long> committed(String group) {
    return Map.copyOf(offsets.getOrDefault(group, Map.of()));
  }

  @Override
  public synchronized OptionalLong lastBatchId(String group) {
    List<BatchCommit> h = history.getOrDefault(group, List.of());
    return h.isEmpty() ? OptionalLong.empty() : OptionalLong.of(h.get(h.size() - 1).batchId());
  }

  @Override
  public synchronized void commit(BatchCommit commit) {
    io.sluice.offsets.KafkaGroupOffsets.requireRangesStartAt(
        committed(commit.group()), commit, describe());
    OptionalLong last = lastBatchId(commit.group());
    if (last.isPresent() && last.getAsLong() >= commit.batchId()) {
      throw new StaleBatchException(commit.group(), commit.batchId(), last.getAsLong());
    }
    Map<TopicPartition, Long> g = offsets.computeIfAbsent(commit.group(), k -> new HashMap<>());
    commit.ranges().forEach(r -> g.put(r.topicPartition(), r.untilOffset()));
    history.computeIfAbsent(commit.group(), k -> new ArrayList<>()).add(commit);
  }

  @Override
  public synchronized List<BatchCommit> history(String group, int limit) {
    List<BatchCommit> h = new ArrayList<>(history.getOrDefault(group, List.of()));
    java.util.Collections.reverse(h);
    return h.subList(0, Math.min(limit, h.size()));
  }

  @Override
  public synchronized void reset(String group, Map<TopicPartition, Long> positions) {
    offsets.computeIfAbsent(group, k -> new HashMap<>()).putAll(positions);
    long next = lastBatchId(group).orElse(-1) + 1;
    List<io.sluice.offsets.OffsetRange> ranges = new ArrayList<>();
    positions.forEach((tp, o) -> ranges.add(io.sluice.offsets.OffsetRange.of(tp, o, o)));
    history
        .computeIfAbsent(group, k -> new ArrayList<>())
        .add(new BatchCommit(group, next, Instant.now(), ranges));
  }

  @Override
  public String describe() {
    return "memory";
  }

  @Override
  public void close() {}
}
