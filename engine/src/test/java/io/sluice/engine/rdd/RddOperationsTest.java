package io.sluice.engine.rdd;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every RDD operation against a plain Java Streams computation on the same seeded input. */
class RddOperationsTest {

  private static StreamingContext ctx;

  @BeforeAll
  static void context() {
    ctx =
        StreamingContext.builder()
            .appName("rdd-test")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(3)
            .build();
  }

  @AfterAll
  static void stop() {
    ctx.stop(false);
  }

  /** Seeded inputs: empty, small, skewed (one hot key), and many keys; various slice counts. */
  static List<Arguments> inputs() {
    return List.of(
        Arguments.of("empty", List.of(), 3),
        Arguments.of("one element", List.of(7), 2),
        Arguments.of("skewed", skewed(new Random(42), 2_000), 5),
        Arguments.of("uniform", uniform(new Random(7), 3_000, 200), 4),
        Arguments.of("more slices than elements", uniform(new Random(1), 3, 10), 8));
  }

  static List<Integer> skewed(Random r, int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(r.nextInt(10) < 6 ? 0 : (int) Math.abs(r.nextGaussian() * 20));
    }
    return out;
  }

  static List<Integer> uniform(Random r, int n, int bound) {
    return IntStream.range(0, n)
        .mapToObj(i -> r.nextInt(bound) - bound / 4)
        .collect(Collectors.toList());
  }

  private static <K, V> Map<K, List<V>> sortedGroups(Map<K, List<V>> m) {
    Map<K, List<V>> out = new HashMap<>();
    m.forEach(
        (k, v) -> {
          List<V> copy = new ArrayList<>(v);
          copy.sort(null);
          out.put(k, copy);
        });
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void narrowTransformationsMatchStreams(String name, List<Integer> data, int slices) {
    RDD<Integer> rdd = ctx.parallelize(data, slices);
    assertThat(rdd.numPartitions()).isEqualTo(slices);
    assertThat(rdd.map(x -> x * 3 + 1).collect())
        .containsExactlyElementsOf(data.stream().map(x -> x * 3 + 1).toList());
    assertThat(rdd.filter(x -> x % 2 == 0).collect())
        .containsExactlyElementsOf(data.stream().filter(x -> x % 2 == 0).toList());
    assertThat(rdd.flatMap(x -> Collections.nCopies(Math.floorMod(x, 3), x).iterator()).collect())
        .containsExactlyElementsOf(
            data.stream()
                .flatMap(x -> Collections.nCopies(Math.floorMod(x, 3), x).stream())
                .toList());
    assertThat(
            rdd
                .mapPartitions(
                    it -> {
                      long sum = 0;
                      while (it.hasNext()) {
                        sum += it.next();
                      }
                      return List.of(sum).iterator();
                    })
                .collect()
                .stream()
                .mapToLong(Long::longValue)
                .sum())
        .isEqualTo(data.stream().mapToLong(Integer::longValue).sum());
    List<KV<Integer, Integer>> indexed =
        rdd.mapPartitionsWithIndex(
                (i, it) -> {
                  List<KV<Integer, Integer>> l = new ArrayList<>();
                  it.forEachRemaining(x -> l.add(KV.of(i, x)));
                  return l.iterator();
                })
            .collect();
    List<KV<Integer, Integer>> expectedIndexed = new ArrayList<>();
    for (int p = 0; p < slices; p++) {
      for (int j = p * data.size() / slices; j < (p + 1) * data.size() / slices; j++) {
        expectedIndexed.add(KV.of(p, data.get(j)));
      }
    }
    assertThat(indexed).containsExactlyElementsOf(expectedIndexed);
    RDD<Integer> other = ctx.parallelize(List.of(-1, -2, -3), 2);
    List<Integer> unionExpected = new ArrayList<>(data);
    unionExpected.addAll(List.of(-1, -2, -3));
    RDD<Integer> union = rdd.union(other);
    assertThat(union.numPartitions()).isEqualTo(slices + 2);
    assertThat(union.collect()).containsExactlyElementsOf(unionExpected);
    RDD<Integer> coalesced = rdd.coalesce(2);
    assertThat(coalesced.numPartitions()).isEqualTo(Math.min(2, slices));
    assertThat(coalesced.collect()).containsExactlyElementsOf(data);
    RDD<Integer> repartitioned = rdd.repartition(4);
    assertThat(repartitioned.numPartitions()).isEqualTo(4);
    assertThat(repartitioned.collect()).containsExactlyInAnyOrderElementsOf(data);
    List<Long> sizes =
        repartitioned.runJob(
            (it, tc) -> {
              long c = 0;
              for (; it.hasNext(); it.next()) {
                c++;
              }
              return c;
            });
    assertThat(Collections.max(sizes) - Collections.min(sizes)).isLessThanOrEqualTo(slices);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void actionsMatchStreams(String name, List<Integer> data, int slices) {
    RDD<Integer> rdd = ctx.parallelize(data, slices);
    assertThat(rdd.count()).isEqualTo(data.size());
    assertThat(rdd.take(5)).containsExactlyElementsOf(data.stream().limit(5).toList());
    assertThat(rdd.take(0)).isEmpty();
    assertThat(rdd.reduce(Integer::sum)).isEqualTo(data.stream().reduce(Integer::sum));
    AtomicLong seen = new AtomicLong();
    rdd.foreachPartition(it -> it.forEachRemaining(x -> seen.incrementAndGet()));
    assertThat(seen.get()).isEqualTo(data.size());
    AtomicLong sum = new AtomicLong();
    rdd.foreach(sum::addAndGet);
    assertThat(sum.get()).isEqualTo(data.stream().mapToLong(Integer::longValue).sum());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void pairOperationsMatchStreams(String name, List<Integer> data, int slices) {
    PairRDD<Integer, Integer> pairs =
        ctx.parallelize(data, slices).mapToPair(x -> KV.of(Math.floorMod(x, 17), x));
    Function<Integer, Integer> key = x -> Math.floorMod(x, 17);

    Map<Integer, Integer> sums =
        data.stream().collect(Collectors.groupingBy(key, Collectors.summingInt(x -> x)));
    assertThat(pairs.reduceByKey(Integer::sum).collectAsMap()).isEqualTo(sums);
    assertThat(pairs.reduceByKey(Integer::sum, 2).numPartitions()).isEqualTo(2);
    assertThat(pairs.reduceByKey(Integer::sum).collect()).hasSize(sums.size());

    Map<Integer, List<Integer>> groups = data.stream().collect(Collectors.groupingBy(key));
    assertThat(sortedGroups(pairs.groupByKey(5).collectAsMap())).isEqualTo(sortedGroups(groups));

    Map<Integer, Double> averages =
        data.stream().collect(Collectors.groupingBy(key, Collectors.averagingInt(x -> x)));
    Map<Integer, Double> combined =
        pairs
            .<long[]>combineByKey(
                v -> new long[] {v, 1},
                (c, v) -> new long[] {c[0] + v, c[1] + 1},
                (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]})
            .mapValues(c -> (double) c[0] / c[1])
            .collectAsMap();
    assertThat(combined).isEqualTo(averages);

    assertThat(pairs.mapValues(v -> v * 2).collect())
        .containsExactlyElementsOf(data.stream().map(x -> KV.of(key.apply(x), x * 2)).toList());
    assertThat(pairs.flatMapValues(v -> List.of(v, -v).iterator()).collect())
        .containsExactlyElementsOf(
            data.stream()
                .flatMap(
                    x ->
                        java.util.stream.Stream.of(KV.of(key.apply(x), x), KV.of(key.apply(x), -x)))
                .toList());
    assertThat(pairs.keys().collect()).containsExactlyElementsOf(data.stream().map(key).toList());
    assertThat(pairs.values().collect()).containsExactlyElementsOf(data);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void joinsAndCogroupMatchNestedLoops(String name, List<Integer> data, int slices) {
    List<KV<Integer, Integer>> left =
        data.stream().map(x -> KV.of(Math.floorMod(x, 11), x)).toList();
    List<KV<Integer, String>> right =
        IntStream.range(0, 15)
            .filter(i -> i % 3 != 0)
            .mapToObj(i -> KV.of(i % 8, "r" + i))
            .toList();
    PairRDD<Integer, Integer> l = PairRDD.of(ctx.parallelize(left, slices));
    RDD<KV<Integer, String>> r = ctx.parallelize(right, 2);

    List<KV<Integer, KV<Integer, String>>> joinExpected = new ArrayList<>();
    List<KV<Integer, KV<Integer, Optional<String>>>> leftExpected = new ArrayList<>();
    for (KV<Integer, Integer> a : left) {
      boolean matched = false;
      for (KV<Integer, String> b : right) {
        if (a.key().equals(b.key())) {
          joinExpected.add(KV.of(a.key(), KV.of(a.value(), b.value())));
          leftExpected.add(KV.of(a.key(), KV.of(a.value(), Optional.of(b.value()))));
          matched = true;
        }
      }
      if (!matched) {
        leftExpected.add(KV.of(a.key(), KV.of(a.value(), Optional.empty())));
      }
    }
    assertThat(l.join(r).collect()).containsExactlyInAnyOrderElementsOf(joinExpected);
    assertThat(l.join(r, 1).numPartitions()).isEqualTo(1);
    assertThat(l.leftOuterJoin(r, 4).collect()).containsExactlyInAnyOrderElementsOf(leftExpected);

    Set<Integer> keys = new HashSet<>();
    left.forEach(kv -> keys.add(kv.key()));
    right.forEach(kv -> keys.add(kv.key()));
    Map<Integer, KV<List<Integer>, List<String>>> cogroupExpected = new HashMap<>();
    for (Integer k : keys) {
      List<Integer> vs =
          left.stream().filter(kv -> kv.key().equals(k)).map(KV::value).sorted().toList();
      List<String> ws =
          right.stream().filter(kv -> kv.key().equals(k)).map(KV::value).sorted().toList();
      cogroupExpected.put(k, KV.of(vs, ws));
    }
    Map<Integer, KV<List<Integer>, List<String>>> cogrouped = new HashMap<>();
    l.cogroup(r)
        .collect()
        .forEach(
            kv ->
                cogrouped.put(
                    kv.key(),
                    KV.of(
                        kv.value().key().stream().sorted().toList(),
                        kv.value().value().stream().sorted().toList())));
    assertThat(cogrouped).isEqualTo(cogroupExpected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void reduceByKeyCombinesMapSide(String name, List<Integer> data, int slices) {
    AtomicInteger creates = new AtomicInteger();
    PairRDD<Integer, Integer> pairs =
        ctx.parallelize(data, slices).mapToPair(x -> KV.of(Math.floorMod(x, 5), 1));
    pairs
        .combineByKey(
            v -> {
              creates.incrementAndGet();
              return v;
            },
            Integer::sum,
            Integer::sum)
        .collect();
    int distinctPerPartition = 0;
    for (int p = 0; p < slices; p++) {
      distinctPerPartition +=
          (int)
              data.subList(p * data.size() / slices, (p + 1) * data.size() / slices).stream()
                  .map(x -> Math.floorMod(x, 5))
                  .distinct()
                  .count();
    }
    assertThat(creates.get()).isEqualTo(distinctPerPartition);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void narrowChainRunsAsOneTaskPerPartitionAndShuffleAddsAStage(
      String name, List<Integer> data, int slices) {
    Map<String, Set<Integer>> stagesByOp = new ConcurrentHashMap<>();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    RDD<Integer> chain =
        ctx.parallelize(data, slices)
            .map(
                x -> {
                  TaskContext tc = TaskContext.current().orElseThrow();
                  stagesByOp
                      .computeIfAbsent("map", k -> ConcurrentHashMap.newKeySet())
                      .add(tc.stageId());
                  threads.add(Thread.currentThread().getName());
                  return x + 1;
                })
            .filter(
                x -> {
                  stagesByOp
                      .computeIfAbsent("filter", k -> ConcurrentHashMap.newKeySet())
                      .add(TaskContext.current().orElseThrow().stageId());
                  return true;
                });
    List<Integer> tasks =
        chain.runJob(
            (it, tc) -> {
              it.forEachRemaining(x -> {});
              assertThat(tc.batchId()).isEqualTo(-1);
              assertThat(tc.attemptNumber()).isZero();
              assertThat(tc.slotId()).isBetween(0, 2);
              return tc.partition();
            });
    assertThat(tasks).containsExactlyElementsOf(IntStream.range(0, slices).boxed().toList());
    if (!data.isEmpty()) {
      assertThat(stagesByOp.get("map")).hasSize(1).isEqualTo(stagesByOp.get("filter"));
      assertThat(threads).allMatch(t -> t.matches("sluice-task-[0-2]"));
    }
    Set<Integer> stages = ConcurrentHashMap.newKeySet();
    PairRDD.of(
            ctx.parallelize(data, slices)
                .map(
                    x -> {
                      stages.add(TaskContext.current().orElseThrow().stageId());
                      return KV.of(x, 1);
                    }))
        .reduceByKey(Integer::sum)
        .runJob((it, tc) -> stages.add(tc.stageId()));
    assertThat(stages).hasSize(data.isEmpty() ? 1 : 2);
  }
}
