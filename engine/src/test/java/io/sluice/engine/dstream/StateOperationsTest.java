package io.sluice.engine.dstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.Harness;
import io.sluice.engine.KV;
import io.sluice.engine.rdd.HashPartitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.State;
import io.sluice.engine.state.StateSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** The state operators against a brute-force computation of the same seeded batches. */
class StateOperationsTest {

  private static final int BATCHES = 20;

  /** Seeded batches of words; some batches empty, keys come and go. */
  static List<List<String>> batches(long seed) {
    Random r = new Random(seed);
    List<List<String>> out = new ArrayList<>();
    for (int b = 0; b < BATCHES; b++) {
      int n = b % 6 == 4 ? 0 : r.nextInt(40);
      List<String> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add("k" + r.nextInt(3 + b / 2));
      }
      out.add(batch);
    }
    return out;
  }

  private static Queue<RDD<String>> queue(Harness h, List<List<String>> batches) {
    Queue<RDD<String>> q = new ConcurrentLinkedQueue<>();
    for (List<String> b : batches) {
      q.add(h.ctx.parallelize(b, 3));
    }
    return q;
  }

  /**
   * Running count per key; a key whose count reaches a multiple of 5 is removed (and may come
   * back).
   */
  private static Optional<Long> count(List<Long> values, Optional<Long> state) {
    long n = state.orElse(0L) + values.size();
    return values.isEmpty() || n % 5 != 0 ? Optional.of(n) : Optional.empty();
  }

  @Test
  void updateStateByKeyEqualsABruteForceRunningState() {
    List<List<String>> in = batches(42);
    try (Harness h = new Harness(2)) {
      PairDStream<String, Long> totals =
          h.ctx
              .queueStream(queue(h, in))
              .mapToPair(w -> KV.of(w, 1L))
              .updateStateByKey(StateOperationsTest::count, 3);
      Map<Long, List<KV<String, Long>>> seen = h.collect(totals);
      h.runBatches(BATCHES);

      Map<String, Long> model = new HashMap<>();
      for (int b = 0; b < BATCHES; b++) {
        Map<String, List<Long>> values = new HashMap<>();
        in.get(b).forEach(w -> values.computeIfAbsent(w, k -> new ArrayList<>()).add(1L));
        Map<String, Long> next = new HashMap<>();
        java.util.Set<String> keys = new java.util.HashSet<>(model.keySet());
        keys.addAll(values.keySet());
        for (String k : keys) {
          count(values.getOrDefault(k, List.of()), Optional.ofNullable(model.get(k)))
              .ifPresent(n -> next.put(k, n));
        }
        model = next;
        assertThat(toMap(seen.get((long) b))).as("state after batch %d", b).isEqualTo(model);
      }
    }
  }

  /**
   * Per record: the key's running count, emitted as "key=count"; timing out emits "key timed out".
   */
  private static String track(String key, Optional<Long> value, State<Long> state) {
    if (state.isTimingOut()) {
      return key + " timed out at " + state.get();
    }
    long n = state.getOption().orElse(0L) + value.orElseThrow();
    state.update(n);
    return key + "=" + n;
  }

  @Test
  void mapWithStateEqualsABruteForceComputationIncludingTimeoutsAtTheBoundary() {
    List<List<String>> in = batches(7);
    Duration timeout = Harness.INTERVAL.multipliedBy(3);
    try (Harness h = new Harness(2)) {
      MapWithStateDStream<String, Long, Long, String> tracked =
          h.ctx
              .queueStream(queue(h, in))
              .mapToPair(w -> KV.of(w, 1L))
              .mapWithState(
                  StateSpec.function(StateOperationsTest::track)
                      .timeout(timeout)
                      .partitioner(new HashPartitioner(2)));
      Map<Long, List<String>> mapped = h.collect(tracked);
      Map<Long, List<KV<String, Long>>> snapshots = h.collect(tracked.stateSnapshots());
      h.runBatches(BATCHES);

      Map<String, Long> state = new HashMap<>();
      Map<String, Integer> updatedAt = new HashMap<>();
      for (int b = 0; b < BATCHES; b++) {
        List<String> expected = new ArrayList<>();
        for (String w : in.get(b)) {
          long n = state.getOrDefault(w, 0L) + 1;
          state.put(w, n);
          updatedAt.put(w, b);
          expected.add(w + "=" + n);
        }
        // Idle for at least 3 intervals: last updated in batch b - 3 or earlier.
        for (String k : new ArrayList<>(state.keySet())) {
          if (b - updatedAt.get(k) >= 3) {
            expected.add(k + " timed out at " + state.remove(k));
          }
        }
        assertThat(mapped.get((long) b))
            .as("mapped in batch %d", b)
            .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(toMap(snapshots.get((long) b))).as("state after batch %d", b).isEqualTo(state);
      }
      assertThat(
              mapped.values().stream().flatMap(List::stream).filter(s -> s.contains("timed out")))
          .isNotEmpty();
    }
  }

  @Test
  void theInitialStateIsTheStartingPoint() {
    try (Harness h = new Harness(2)) {
      RDD<KV<String, Long>> initial =
          h.ctx.parallelize(List.of(KV.of("a", 10L), KV.of("z", 1L)), 2);
      Queue<RDD<String>> q = new ConcurrentLinkedQueue<>();
      q.add(h.ctx.parallelize(List.of("a", "b"), 1));
      Map<Long, List<KV<String, Long>>> seen =
          h.collect(
              h.ctx
                  .queueStream(q)
                  .mapToPair(w -> KV.of(w, 1L))
                  .updateStateByKey(
                      (List<Long> v, Optional<Long> s) -> Optional.of(s.orElse(0L) + v.size()),
                      new HashPartitioner(2),
                      initial));
      h.runBatches(1);
      assertThat(toMap(seen.get(0L))).isEqualTo(Map.of("a", 11L, "b", 1L, "z", 1L));
    }
  }

  @Test
  void stateOperatorsCannotBeAddedAfterStart() {
    try (Harness h = new Harness(1)) {
      PairDStream<String, Long> pairs =
          h.ctx.queueStream(new ConcurrentLinkedQueue<RDD<String>>()).mapToPair(w -> KV.of(w, 1L));
      pairs.foreachRDD(RDD::count);
      h.ctx.start();
      assertThatThrownBy(
              () -> pairs.updateStateByKey((List<Long> v, Optional<Long> s) -> Optional.of(0L)))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  static <K, V> Map<K, V> toMap(List<KV<K, V>> pairs) {
    Map<K, V> out = new TreeMap<>();
    if (pairs != null) {
      pairs.forEach(kv -> out.put(kv.key(), kv.value()));
    }
    return out;
  }
}
