package io.sluice.engine.state.internal;

import static io.sluice.engine.state.internal.StateTesting.INT;
import static io.sluice.engine.state.internal.StateTesting.UTF8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.HashPartitioner;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.SourcePartitioned;
import io.sluice.engine.state.StateChange;
import io.sluice.engine.state.StateChangelog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A state operator that keeps its state per source partition (group mode): restored from the
 * changelog when a source partition first appears, dropped after a batch that no longer reads it,
 * restored afresh when it comes back; each batch's changes are exactly the keys it touched.
 */
class SourcePartitionedStateTest {

  private final StreamingContext ctx =
      StreamingContext.builder()
          .appName("source-state")
          .batchInterval(Duration.ofSeconds(1))
          .build();

  /** A changelog in memory: what "committed" batches wrote, by source partition. */
  private final Map<String, Map<Integer, String>> committed = new HashMap<>();

  private final List<String> restores = new ArrayList<>();

  private final StateChangelog changelog =
      new StateChangelog() {
        @Override
        public void restore(String operator, String source, BiConsumer<byte[], byte[]> entry) {
          restores.add(source);
          committed
              .getOrDefault(source, Map.of())
              .forEach((k, v) -> entry.accept(INT.serialize(k), UTF8.serialize(v)));
        }

        @Override
        public String describeChangelog() {
          return "memory";
        }
      };

  @AfterEach
  void stop() {
    ctx.stop(false);
  }

  /** An RDD reading the given source partitions, one per RDD partition. */
  private RDD<Integer> reading(String... sources) {
    return new Sourced(ctx, sources);
  }

  private static final class Sourced extends RDD<Integer> implements SourcePartitioned {
    private final String[] sources;

    Sourced(StreamingContext ctx, String[] sources) {
      super(ctx);
      this.sources = sources;
    }

    @Override
    public int numPartitions() {
      return sources.length;
    }

    @Override
    public List<io.sluice.engine.rdd.Dependency> dependencies() {
      return List.of();
    }

    @Override
    public java.util.Iterator<Integer> compute(int partition, io.sluice.engine.rdd.TaskContext tc) {
      return java.util.Collections.emptyIterator();
    }

    @Override
    public String sourcePartition(int partition) {
      return sources[partition];
    }
  }

  private StateOperator<Integer, String> operator() {
    StateOperator<Integer, String> op =
        new StateOperator<>(() -> "counts", new HashPartitioner(2), INT, UTF8, null, null);
    op.followSources(changelog);
    op.open(null, -1, StateStoreSettings.defaults(), false);
    return op;
  }

  /** Runs batch {@code b} over {@code sources}, applying {@code updates} per source. */
  private void batch(
      StateOperator<Integer, String> op,
      long b,
      Map<String, Map<Integer, String>> updates,
      String... sources) {
    String[] planned = op.sourcesOf(b, reading(sources).map(x -> x));
    for (String source : planned) {
      StatePartition<Integer, String> part = op.sourcePartition(source, b);
      synchronized (part.lock()) {
        part.begin(b);
        updates
            .getOrDefault(source, Map.of())
            .forEach(
                (k, v) -> {
                  if (v == null) {
                    part.remove(k);
                  } else {
                    part.put(k, v);
                  }
                });
        part.persist(b);
        op.recordChanges(source, part, b);
      }
    }
    op.finishBatch(b);
  }

  /** What a changelog-keeping output would commit with batch {@code b}. */
  private void commit(StateOperator<Integer, String> op, long b) {
    for (StateChange c : op.changes(b)) {
      Map<Integer, String> state = committed.computeIfAbsent(c.source(), s -> new HashMap<>());
      if (c.removed()) {
        state.remove(INT.deserialize(c.key()));
      } else {
        state.put(INT.deserialize(c.key()), UTF8.deserialize(c.value()));
      }
    }
    op.committed(b);
  }

  @Test
  void aSourcePartitionIsRestoredOnceAndItsBatchesChangeOnlyTheKeysTheyTouched() {
    committed.put("t-0", new HashMap<>(Map.of(1, "a", 2, "b")));
    StateOperator<Integer, String> op = operator();

    batch(op, 1, Map.of("t-0", Map.of(3, "c"), "t-1", Map.of(7, "x")), "t-0", "t-1");
    assertThat(restores).containsExactlyInAnyOrder("t-0", "t-1");
    assertThat(op.changes(1))
        .extracting(
            c -> c.source() + ":" + INT.deserialize(c.key()) + "=" + UTF8.deserialize(c.value()))
        .containsExactly("t-0:3=c", "t-1:7=x");
    commit(op, 1);
    assertThat(op.changes(1)).isEmpty();
    assertThat(op.keyCount()).isEqualTo(4);

    Map<Integer, String> removeOne = new HashMap<>();
    removeOne.put(1, null);
    batch(op, 2, Map.of("t-0", removeOne), "t-0", "t-1");
    assertThat(restores).hasSize(2); // held: not restored again
    assertThat(op.changes(2)).hasSize(1);
    assertThat(op.changes(2).get(0).removed()).isTrue();
    commit(op, 2);
    assertThat(committed.get("t-0")).isEqualTo(Map.of(2, "b", 3, "c"));
  }

  @Test
  void aSourcePartitionNoLongerReadIsDroppedAndRestoredAfreshWhenItComesBack() {
    StateOperator<Integer, String> op = operator();
    batch(op, 1, Map.of("t-0", Map.of(1, "mine"), "t-1", Map.of(2, "mine")), "t-0", "t-1");
    commit(op, 1);

    // t-1 moved to another process, which changed its state there.
    batch(op, 2, Map.of(), "t-0");
    commit(op, 2);
    assertThat(op.partitionsHeld()).isEqualTo(1);
    committed.get("t-1").put(2, "theirs");

    batch(op, 3, Map.of(), "t-0", "t-1");
    assertThat(restores).containsExactly("t-0", "t-1", "t-1");
    StatePartition<Integer, String> back = op.sourcePartition("t-1", 3);
    synchronized (back.lock()) {
      assertThat(back.store().view()).isEqualTo(Map.of(2, "theirs"));
    }
  }

  @Test
  void aFailedBatchLeavesTheRestoredStateAndRecordsNoChanges() {
    committed.put("t-0", new HashMap<>(Map.of(1, "a")));
    StateOperator<Integer, String> op = operator();
    batch(op, 1, Map.of("t-0", Map.of(1, "changed")), "t-0");
    op.abort();
    assertThat(op.changes(1)).isEmpty();
    StatePartition<Integer, String> part = op.sourcePartition("t-0", 1);
    synchronized (part.lock()) {
      assertThat(part.store().view()).isEqualTo(Map.of(1, "a"));
    }
  }

  @Test
  void anInputThatIsNotOneSourcePartitionPerPartitionIsRefusedNamingTheOperator() {
    StateOperator<Integer, String> op = operator();
    RDD<Integer> shuffled =
        io.sluice.engine.rdd.PairRDD.of(
                reading("t-0", "t-1").map(x -> io.sluice.engine.KV.of(x, x)))
            .groupByKey(2)
            .map(kv -> kv.key());
    assertThatThrownBy(() -> op.sourcesOf(1, shuffled))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("state operator 'counts'")
        .hasMessageContaining("one-to-one transformations");
  }
}
