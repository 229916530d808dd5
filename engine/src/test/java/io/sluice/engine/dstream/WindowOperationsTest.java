package io.sluice.engine.dstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.Harness;
import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Windows over 24 batches, compared with a brute-force recomputation of every window. */
class WindowOperationsTest {

  private static final int BATCHES = 24;
  private static final Duration I = Harness.INTERVAL;

  static List<List<String>> batches(long seed) {
    Random r = new Random(seed);
    List<List<String>> out = new ArrayList<>();
    for (int b = 0; b < BATCHES; b++) {
      int n = b % 5 == 3 ? 0 : r.nextInt(60);
      List<String> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(r.nextInt(4) == 0 ? "hot" : "k" + r.nextInt(12 + b));
      }
      out.add(batch);
    }
    return out;
  }

  /** The records of the window ending at batch b: batches (b - len, b]. */
  static List<String> window(List<List<String>> in, int b, int len) {
    List<String> out = new ArrayList<>();
    for (int i = Math.max(0, b - len + 1); i <= b; i++) {
      out.addAll(in.get(i));
    }
    return out;
  }

  static List<KV<String, Long>> counts(List<String> words) {
    return words.stream()
        .collect(Collectors.groupingBy(w -> w, Collectors.counting()))
        .entrySet()
        .stream()
        .map(e -> KV.of(e.getKey(), e.getValue()))
        .toList();
  }

  /**
   * Batch b is a slide time when (b + 1) is a multiple of slide (batch times are 1..24 intervals).
   */
  static boolean isSlideTime(int b, int slide) {
    return (b + 1) % slide == 0;
  }

  @ParameterizedTest(name = "window {0} slide {1}")
  @CsvSource({"3, 1", "4, 2", "5, 3", "2, 2", "6, 4", "2, 3"})
  void windowsEqualBruteForce(int len, int slide) {
    List<List<String>> in = batches(len * 31L + slide);
    try (Harness h = new Harness(3)) {
      Queue<List<String>> q = new ConcurrentLinkedQueue<>(in);
      DStream<String> s = h.ctx.queueCollectionStream(q);
      Duration length = I.multipliedBy(len);
      Duration sl = I.multipliedBy(slide);
      PairDStream<String, Long> ones = s.mapToPair(w -> KV.of(w, 1L));
      Map<Long, List<String>> window = h.collect(s.window(length, sl));
      Map<Long, List<KV<String, Long>>> plain =
          h.collect(ones.reduceByKeyAndWindow(Long::sum, length, sl));
      Map<Long, List<KV<String, Long>>> inverse =
          h.collect(ones.reduceByKeyAndWindow(Long::sum, (a, b) -> a - b, length, sl, 2));
      Map<Long, List<KV<String, Long>>> byValue = h.collect(s.countByValueAndWindow(length, sl));
      Map<Long, List<Long>> count = h.collect(s.countByWindow(length, sl));
      Map<Long, List<Integer>> reduce =
          h.collect(s.map(String::length).reduceByWindow(Integer::sum, length, sl));
      Map<Long, List<Integer>> reduceInv =
          h.collect(
              s.map(String::length).reduceByWindow(Integer::sum, (a, b) -> a - b, length, sl));
      Map<Long, List<KV<String, List<Long>>>> grouped =
          h.collect(ones.groupByKeyAndWindow(length, sl));

      h.runBatches(BATCHES);

      for (int b = 0; b < BATCHES; b++) {
        long id = b;
        if (!isSlideTime(b, slide)) {
          assertThat(window).doesNotContainKey(id);
          assertThat(inverse).doesNotContainKey(id);
          continue;
        }
        List<String> w = window(in, b, len);
        assertThat(window.get(id)).as("window at %d", b).containsExactlyInAnyOrderElementsOf(w);
        assertThat(plain.get(id))
            .as("plain at %d", b)
            .containsExactlyInAnyOrderElementsOf(counts(w));
        assertThat(inverse.get(id))
            .as("inverse at %d", b)
            .containsExactlyInAnyOrderElementsOf(counts(w));
        assertThat(byValue.get(id))
            .as("byValue at %d", b)
            .containsExactlyInAnyOrderElementsOf(counts(w));
        assertThat(count.get(id)).containsExactly((long) w.size());
        List<Integer> sum =
            w.isEmpty() ? List.of() : List.of(w.stream().mapToInt(String::length).sum());
        assertThat(reduce.get(id)).isEqualTo(sum);
        assertThat(reduceInv.get(id)).isEqualTo(sum);
        Map<String, Integer> groupSizes = new HashMap<>();
        grouped.get(id).forEach(kv -> groupSizes.put(kv.key(), kv.value().size()));
        Map<String, Integer> expectedSizes = new HashMap<>();
        counts(w).forEach(kv -> expectedSizes.put(kv.key(), kv.value().intValue()));
        assertThat(groupSizes).isEqualTo(expectedSizes);
      }
      assertThat(Collections.frequency(new ArrayList<>(window.keySet()), 0L))
          .isLessThanOrEqualTo(1);
    }
  }

  @Test
  void windowNotMultipleOfBatchIntervalIsRefusedAtStart() {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("w")
            .batchInterval(Duration.ofMillis(500))
            .clock(new io.sluice.engine.ManualClock())
            .build();
    try {
      DStream<Integer> s = ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<Integer>>());
      s.window(Duration.ofMillis(1200), Duration.ofMillis(500)).name("bad-window").print();
      assertThatThrownBy(ctx::start)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bad-window")
          .hasMessageContaining("1200 ms")
          .hasMessageContaining("500 ms");
      assertThat(ctx.state()).isEqualTo(StreamingContext.State.INITIALIZED);
    } finally {
      ctx.stop(false);
    }
  }

  @Test
  void slideNotMultipleOfBatchIntervalIsRefusedAtStart() {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("w")
            .batchInterval(Duration.ofSeconds(1))
            .clock(new io.sluice.engine.ManualClock())
            .build();
    try {
      ctx.queueCollectionStream(new ConcurrentLinkedQueue<List<String>>())
          .mapToPair(w -> KV.of(w, 1L))
          .reduceByKeyAndWindow(
              Long::sum, (a, b) -> a - b, Duration.ofSeconds(4), Duration.ofMillis(1500))
          .print();
      assertThatThrownBy(ctx::start)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("reduceByKeyAndWindow-")
          .hasMessageContaining("slide 1500 ms")
          .hasMessageContaining("batch interval 1000 ms");
    } finally {
      ctx.stop(false);
    }
  }
}
