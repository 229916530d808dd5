package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

class WordCountTest {

  @Test
  void countsWordsOfEachQueuedBatch() {
    try (Harness h = new Harness(2)) {
      Queue<List<String>> queue = new ConcurrentLinkedQueue<>();
      queue.add(List.of("a b a", "c a"));
      queue.add(List.of());
      queue.add(List.of("b b", "c"));
      Map<Long, List<KV<String, Long>>> out =
          h.collect(
              h.ctx
                  .queueCollectionStream(queue)
                  .flatMap(line -> Arrays.asList(line.split(" ")).iterator())
                  .mapToPair(w -> KV.of(w, 1L))
                  .reduceByKey(Long::sum));

      h.runBatches(4);

      assertThat(out.get(0L))
          .containsExactlyInAnyOrder(KV.of("a", 3L), KV.of("b", 1L), KV.of("c", 1L));
      assertThat(out.get(1L)).isEmpty();
      assertThat(out.get(2L)).containsExactlyInAnyOrder(KV.of("b", 2L), KV.of("c", 1L));
      assertThat(out.get(3L)).isEmpty();
      assertThat(h.completedInfos())
          .extracting(BatchInfo::numRecords)
          .containsExactly(2L, 0L, 2L, 0L);
    }
  }
}
