package io.sluice.engine.dstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.Harness;
import io.sluice.engine.KV;
import io.sluice.engine.rdd.RDD;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every DStream operation, batch by batch, against Java Streams over the same seeded batches. */
class DStreamOperationsTest {

  private static final int BATCHES = 8;

  /** Seeded batches with empty ones and a hot key. */
  static List<List<Integer>> batches(long seed) {
    Random r = new Random(seed);
    List<List<Integer>> out = new ArrayList<>();
    for (int b = 0; b < BATCHES; b++) {
      int n = b % 3 == 1 ? 0 : r.nextInt(400);
      List<Integer> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(r.nextInt(10) < 5 ? 3 : r.nextInt(60));
      }
      out.add(batch);
    }
    return out;
  }

  private static <T> Map<Long, List<T>> expected(
      List<List<Integer>> in, Function<List<Integer>, List<T>> f) {
    Map<Long, List<T>> out = new HashMap<>();
    for (int b = 0; b < in.size(); b++) {
      out.put((long) b, f.apply(in.get(b)));
    }
    return out;
  }

  private static <T> void assertSameBags(Map<Long, List<T>> actual, Map<Long, List<T>> expected) {
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((b, e) -> assertThat(bag(actual.get(b))).as("batch %d", b).isEqualTo(bag(e)));
  }

  /** A multiset, compared in linear time (AssertJ's any-order check is quadratic). */
  private static <T> Map<T, Long> bag(List<T> l) {
    return l.stream().collect(Collectors.groupingBy(x -> x, Collectors.counting()));
  }

  private static Map<Integer, List<Integer>> sortedValues(List<KV<Integer, List<Integer>>> l) {
    Map<Integer, List<Integer>> m = new HashMap<>();
    l.forEach(
        kv -> {
          List<Integer> v = new ArrayList<>(kv.value());
          Collections.sort(v);
          m.put(kv.key(), v);
        });
    return m;
  }

  @Test
  void transformationsMatchStreamsBatchByBatch() {
    List<List<Integer>> in = batches(11);
    List<List<Integer>> other = batches(12);
    try (Harness h = new Harness(3)) {
      Queue<List<Integer>> q1 = new ConcurrentLinkedQueue<>(in);
      Queue<List<Integer>> q2 = new ConcurrentLinkedQueue<>(other);
      DStream<Integer> s = h.ctx.queueCollectionStream(q1);
      DStream<Integer> s2 = h.ctx.queueCollectionStream(q2);
      Map<Long, List<Integer>> map = h.collect(s.map(x -> x * 2));
      Map<Long, List<Integer>> flatMap =
          h.collect(s.flatMap(x -> Collections.nCopies(x % 3, x).iterator()));
      Map<Long, List<Integer>> filter = h.collect(s.filter(x -> x % 4 == 0));
      Map<Long, List<Integer>> mapPartitions =
          h.collect(
              s.mapPartitions(
                  it -> {
                    List<Integer> l = new ArrayList<>();
                    it.forEachRemaining(x -> l.add(x + 1));
                    return l.iterator();
                  }));
      Map<Long, List<Integer>> transform = h.collect(s.transform(rdd -> rdd.filter(x -> x > 30)));
      Map<Long, List<Long>> transformTime =
          h.collect(s.transform((RDD<Integer> rdd, Instant t) -> rdd.map(x -> t.toEpochMilli())));
      Map<Long, List<Integer>> union = h.collect(s.union(s2));
      Map<Long, List<Integer>> repartition = h.collect(s.repartition(5));
      Map<Long, List<Long>> count = h.collect(s.count());
      Map<Long, List<KV<Integer, Long>>> countByValue = h.collect(s.countByValue());
      Map<Long, List<Integer>> reduce = h.collect(s.reduce(Integer::sum));
      PairDStream<Integer, Integer> pairs = s.mapToPair(x -> KV.of(x % 7, x));
      PairDStream<Integer, Integer> pairs2 = s2.mapToPair(x -> KV.of(x % 5, -x));
      Map<Long, List<KV<Integer, Integer>>> mapToPair = h.collect(pairs);
      Map<Long, List<KV<Integer, Integer>>> mapValues = h.collect(pairs.mapValues(v -> v + 100));
      Map<Long, List<KV<Integer, Integer>>> flatMapValues =
          h.collect(pairs.flatMapValues(v -> List.of(v, v).iterator()));
      Map<Long, List<KV<Integer, Integer>>> reduceByKey =
          h.collect(pairs.reduceByKey(Integer::sum, 2));
      Map<Long, List<KV<Integer, List<Integer>>>> groupByKey = h.collect(pairs.groupByKey());
      Map<Long, List<KV<Integer, Integer>>> combineByKey =
          h.collect(pairs.combineByKey(v -> 1, (c, v) -> c + 1, Integer::sum));
      Map<Long, List<KV<Integer, KV<Integer, Integer>>>> join = h.collect(pairs.join(pairs2));
      Map<Long, List<KV<Integer, KV<Integer, Optional<Integer>>>>> leftJoin =
          h.collect(pairs.leftOuterJoin(pairs2, 3));
      Map<Long, List<KV<Integer, KV<List<Integer>, List<Integer>>>>> cogroup =
          h.collect(pairs.cogroup(pairs2));

      h.runBatches(BATCHES);

      assertSameBags(map, expected(in, b -> b.stream().map(x -> x * 2).toList()));
      assertSameBags(
          flatMap,
          expected(
              in, b -> b.stream().flatMap(x -> Collections.nCopies(x % 3, x).stream()).toList()));
      assertSameBags(filter, expected(in, b -> b.stream().filter(x -> x % 4 == 0).toList()));
      assertSameBags(mapPartitions, expected(in, b -> b.stream().map(x -> x + 1).toList()));
      assertSameBags(transform, expected(in, b -> b.stream().filter(x -> x > 30).toList()));
      transformTime.forEach((b, l) -> assertThat(l).allMatch(t -> t == (b + 1) * 1000));
      Map<Long, List<Integer>> unionExpected = new HashMap<>();
      for (int b = 0; b < BATCHES; b++) {
        List<Integer> u = new ArrayList<>(in.get(b));
        u.addAll(other.get(b));
        unionExpected.put((long) b, u);
      }
      assertSameBags(union, unionExpected);
      assertSameBags(repartition, expected(in, b -> b));
      assertSameBags(count, expected(in, b -> List.of((long) b.size())));
      assertSameBags(
          countByValue,
          expected(
              in,
              b ->
                  b.stream()
                      .collect(Collectors.groupingBy(x -> x, Collectors.counting()))
                      .entrySet()
                      .stream()
                      .map(e -> KV.of(e.getKey(), e.getValue()))
                      .toList()));
      assertSameBags(reduce, expected(in, b -> b.stream().reduce(Integer::sum).stream().toList()));
      assertSameBags(mapToPair, expected(in, b -> b.stream().map(x -> KV.of(x % 7, x)).toList()));
      assertSameBags(
          mapValues, expected(in, b -> b.stream().map(x -> KV.of(x % 7, x + 100)).toList()));
      assertSameBags(
          flatMapValues,
          expected(
              in,
              b ->
                  b.stream()
                      .flatMap(x -> java.util.stream.Stream.of(KV.of(x % 7, x), KV.of(x % 7, x)))
                      .toList()));
      assertSameBags(
          reduceByKey,
          expected(
              in,
              b ->
                  b.stream()
                      .collect(Collectors.groupingBy(x -> x % 7, Collectors.summingInt(x -> x)))
                      .entrySet()
                      .stream()
                      .map(e -> KV.of(e.getKey(), e.getValue()))
                      .toList()));
      assertSameBags(
          combineByKey,
          expected(
              in,
              b ->
                  b.stream()
                      .collect(Collectors.groupingBy(x -> x % 7, Collectors.summingInt(x -> 1)))
                      .entrySet()
                      .stream()
                      .map(e -> KV.of(e.getKey(), e.getValue()))
                      .toList()));
      for (int b = 0; b < BATCHES; b++) {
        Map<Integer, List<Integer>> g =
            in.get(b).stream().collect(Collectors.groupingBy(x -> x % 7));
        g.values().forEach(Collections::sort);
        assertThat(sortedValues(groupByKey.get((long) b))).isEqualTo(g);

        List<KV<Integer, KV<Integer, Integer>>> j = new ArrayList<>();
        List<KV<Integer, KV<Integer, Optional<Integer>>>> lj = new ArrayList<>();
        for (int x : in.get(b)) {
          boolean matched = false;
          for (int y : other.get(b)) {
            if (x % 7 == y % 5) {
              j.add(KV.of(x % 7, KV.of(x, -y)));
              lj.add(KV.of(x % 7, KV.of(x, Optional.of(-y))));
              matched = true;
            }
          }
          if (!matched) {
            lj.add(KV.of(x % 7, KV.of(x, Optional.empty())));
          }
        }
        assertThat(bag(join.get((long) b))).isEqualTo(bag(j));
        assertThat(bag(leftJoin.get((long) b))).isEqualTo(bag(lj));

        Map<Integer, KV<List<Integer>, List<Integer>>> cg = new HashMap<>();
        for (int x : in.get(b)) {
          cg.computeIfAbsent(x % 7, k -> KV.of(new ArrayList<>(), new ArrayList<>())).key().add(x);
        }
        for (int y : other.get(b)) {
          cg.computeIfAbsent(y % 5, k -> KV.of(new ArrayList<>(), new ArrayList<>()))
              .value()
              .add(-y);
        }
        cg.values()
            .forEach(
                kv -> {
                  Collections.sort(kv.key());
                  Collections.sort(kv.value());
                });
        Map<Integer, KV<List<Integer>, List<Integer>>> actual = new ConcurrentHashMap<>();
        cogroup
            .get((long) b)
            .forEach(
                kv ->
                    actual.put(
                        kv.key(),
                        KV.of(
                            kv.value().key().stream().sorted().toList(),
                            kv.value().value().stream().sorted().toList())));
        assertThat(actual).isEqualTo(cg);
      }
    }
  }
}
