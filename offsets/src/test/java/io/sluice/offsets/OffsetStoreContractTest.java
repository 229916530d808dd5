package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link OffsetStore} promises, run against each store on a real server.
 * Subclasses open stores on one shared backend; every test uses its own group.
 */
abstract class OffsetStoreContractTest {

  static final String ORDERS = "orders";
  static final String PAYMENTS = "payments";
  static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");

  protected OffsetStore store;
  protected String group;

  /** A new store instance on the same backend as the others of this class. */
  protected abstract OffsetStore newStore();

  /**
   * A store on the same backend whose commits fail midway, after part of the commit was written.
   */
  protected abstract OffsetStore newStoreFailingMidway();

  /** A new store on the same backend that keeps {@code batches} batches of history per group. */
  protected abstract OffsetStore newStoreKeeping(int batches);

  @BeforeEach
  void openStore() {
    group = "g-" + UUID.randomUUID();
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static BatchCommit batch(String group, long id, OffsetRange... ranges) {
    return new BatchCommit(group, id, T0.plusMillis(500 * id), List.of(ranges));
  }

  static TopicPartition tp(String topic, int partition) {
    return new TopicPartition(topic, partition);
  }

  @Test
  void sharedCommitsAreFencedByOffsetsOnlyInTheJdbcStoreAndRefusedElsewhere() {
    BatchCommit first = batch(group, 5, new OffsetRange(ORDERS, 0, 0, 10)).asShared();
    if (!(store instanceof JdbcOffsetStore)) {
      assertThatThrownBy(() -> store.commit(first))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("shared among processes (group mode)")
          .hasMessageContaining(group);
      assertThat(store.committed(group)).isEmpty();
      return;
    }
    store.commit(first);
    // Another process's batch 0 of another partition: not stale, numbered after the last.
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 1, 0, 4)).asShared());
    // A process's batch 6 that continues partition 0.
    store.commit(batch(group, 6, new OffsetRange(ORDERS, 0, 10, 12)).asShared());
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 12L, tp(ORDERS, 1), 4L));
    assertThat(store.history(group, 10).stream().map(BatchCommit::batchId))
        .containsExactly(7L, 6L, 5L);
    // The offsets still fence: a range that does not begin where the partition stands.
    assertThatThrownBy(
            () -> store.commit(batch(group, 9, new OffsetRange(ORDERS, 0, 10, 15)).asShared()))
        .isInstanceOf(OffsetFencedException.class);
    assertThat(store.committed(group)).containsEntry(tp(ORDERS, 0), 12L);
  }

  @Test
  void roundTripsOffsetsLastBatchAndHistory() {
    BatchCommit first =
        batch(
            group,
            0,
            new OffsetRange(ORDERS, 0, 0, 10),
            new OffsetRange(ORDERS, 1, 0, 5),
            new OffsetRange(PAYMENTS, 0, 0, 7));
    store.commit(first);
    BatchCommit second = batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20));
    store.commit(second);

    Map<TopicPartition, Long> expected =
        Map.of(tp(ORDERS, 0), 20L, tp(ORDERS, 1), 5L, tp(PAYMENTS, 0), 7L);
    assertThat(store.committed(group)).isEqualTo(expected);
    assertThat(store.committed(group, List.of(tp(ORDERS, 0), tp(ORDERS, 2))))
        .isEqualTo(Map.of(tp(ORDERS, 0), 20L));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
    assertThat(store.history(group, 10)).containsExactly(second, first);
    assertThat(store.batch(group, 0)).contains(first);
    try (OffsetStore other = newStore()) {
      assertThat(other.committed(group)).isEqualTo(expected);
      assertThat(other.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
      assertThat(other.history(group, 10)).containsExactly(second, first);
    }
  }

  @Test
  void historyKeepsTheNewestBatchesUpToTheRetention() {
    try (OffsetStore keeping = newStoreKeeping(3)) {
      for (long id = 0; id < 5; id++) {
        keeping.commit(batch(group, id, new OffsetRange(ORDERS, 0, 10 * id, 10 * id + 10)));
      }
      assertThat(keeping.history(group, 10))
          .extracting(BatchCommit::batchId)
          .containsExactly(4L, 3L, 2L);
      assertThat(keeping.batch(group, 1)).isEmpty();
      assertThat(keeping.batch(group, 2)).isPresent();
      assertThat(keeping.lastBatchId(group)).isEqualTo(OptionalLong.of(4));
      assertThat(keeping.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 50L));
      // A reset is the group's next batch: it pushes the oldest out too.
      keeping.reset(group, Map.of(tp(ORDERS, 0), 20L));
      assertThat(keeping.history(group, 10))
          .extracting(BatchCommit::batchId)
          .containsExactly(5L, 4L, 3L);
    }
    try (OffsetStore reopened = newStoreKeeping(3)) {
      assertThat(reopened.history(group, 10))
          .extracting(BatchCommit::batchId)
          .containsExactly(5L, 4L, 3L);
      assertThat(reopened.lastBatchId(group)).isEqualTo(OptionalLong.of(5));
    }
  }

  @Test
  void aLowerRetentionPrunesWhatAnEarlierStoreKeptAtItsNextCommit() {
    try (OffsetStore generous = newStoreKeeping(10)) {
      for (long id = 0; id < 6; id++) {
        generous.commit(batch(group, id, new OffsetRange(ORDERS, 0, 10 * id, 10 * id + 10)));
      }
      assertThat(generous.history(group, 20)).hasSize(6);
    }
    try (OffsetStore strict = newStoreKeeping(2)) {
      strict.commit(batch(group, 6, new OffsetRange(ORDERS, 0, 60, 70)));
      assertThat(strict.history(group, 20))
          .extracting(BatchCommit::batchId)
          .containsExactly(6L, 5L);
      assertThat(strict.batch(group, 0)).isEmpty();
    }
    assertThat(store.history(group, 20)).extracting(BatchCommit::batchId).containsExactly(6L, 5L);
  }

  @Test
  void unknownGroupHasNothing() {
    assertThat(store.committed(group)).isEmpty();
    assertThat(store.lastBatchId(group)).isEmpty();
    assertThat(store.history(group, 5)).isEmpty();
  }

  @Test
  void emptyBatchAdvancesTheBatchId() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 3)));
    store.commit(batch(group, 1));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 3L));
    assertThatThrownBy(() -> store.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 3, 9))))
        .isInstanceOf(StaleBatchException.class);
  }

  @Test
  void commitThatFailsMidwayLeavesNothing() {
    store.commit(
        batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10), new OffsetRange(ORDERS, 1, 0, 4)));
    try (OffsetStore failing = newStoreFailingMidway()) {
      Throwable failure =
          catchThrowable(
              () ->
                  failing.commit(
                      batch(
                          group,
                          1,
                          new OffsetRange(ORDERS, 0, 10, 50),
                          new OffsetRange(ORDERS, 1, 4, 40),
                          new OffsetRange(PAYMENTS, 1, 0, 9))));
      assertThat(failure)
          .isInstanceOf(OffsetStoreException.class)
          .isNotInstanceOf(StaleBatchException.class);
    }
    try (OffsetStore fresh = newStore()) {
      assertThat(fresh.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L, tp(ORDERS, 1), 4L));
      assertThat(fresh.lastBatchId(group)).isEqualTo(OptionalLong.of(0));
      assertThat(fresh.history(group, 10)).extracting(BatchCommit::batchId).containsExactly(0L);
      // The failed commit did not use up its batch id.
      fresh.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 10, 11)));
      assertThat(fresh.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 11L, tp(ORDERS, 1), 4L));
    }
  }

  @Test
  void staleBatchIdsAreRefusedAndChangeNothing() {
    store.commit(batch(group, 5, new OffsetRange(ORDERS, 0, 0, 10)));

    assertThatThrownBy(() -> store.commit(batch(group, 5, new OffsetRange(ORDERS, 0, 10, 20))))
        .isInstanceOfSatisfying(
            StaleBatchException.class,
            e -> {
              assertThat(e.group()).isEqualTo(group);
              assertThat(e.batchId()).isEqualTo(5);
              assertThat(e.lastCommittedBatchId()).isEqualTo(5);
            });
    assertThatThrownBy(() -> store.commit(batch(group, 3, new OffsetRange(ORDERS, 0, 10, 20))))
        .isInstanceOf(StaleBatchException.class)
        .hasMessageContaining("batch 3 refused");
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L));
    assertThat(store.history(group, 10)).extracting(BatchCommit::batchId).containsExactly(5L);

    store.commit(batch(group, 6, new OffsetRange(ORDERS, 0, 10, 20)));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 20L));
  }

  @Test
  void historyIsNewestFirstLimitedAndPerGroup() {
    String otherGroup = group + "-other";
    for (long id = 0; id < 5; id++) {
      store.commit(batch(group, id, new OffsetRange(ORDERS, 0, id * 10, id * 10 + 10)));
      store.commit(batch(otherGroup, id + 100, new OffsetRange(PAYMENTS, 0, id, id + 1)));
    }
    assertThat(store.history(group, 3))
        .extracting(BatchCommit::batchId)
        .containsExactly(4L, 3L, 2L);
    assertThat(store.history(group, 10))
        .extracting(BatchCommit::batchId)
        .containsExactly(4L, 3L, 2L, 1L, 0L);
    assertThat(store.history(group, 1).get(0).ranges())
        .containsExactly(new OffsetRange(ORDERS, 0, 40, 50));
    assertThat(store.history(otherGroup, 2))
        .extracting(BatchCommit::batchId)
        .containsExactly(104L, 103L);
    assertThatThrownBy(() -> store.history(group, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("limit must be > 0, was 0");
  }

  @Test
  void twoStoresRacingOneBatchIdExactlyOneWins() throws Exception {
    try (OffsetStore second = newStore()) {
      race(store, second);
    }
  }

  @Test
  void twoThreadsRacingOneBatchIdOnOneStoreExactlyOneWins() throws Exception {
    race(store, store);
  }

  private void race(OffsetStore a, OffsetStore b) throws Exception {
    BatchCommit fromA =
        batch(group, 0, new OffsetRange(ORDERS, 0, 0, 111), new OffsetRange(ORDERS, 1, 0, 112));
    BatchCommit fromB =
        batch(group, 0, new OffsetRange(ORDERS, 0, 0, 221), new OffsetRange(ORDERS, 1, 0, 222));
    race(a, b, fromA, fromB);
  }

  /**
   * Commits {@code fromA} on {@code a} and {@code fromB} on {@code b} at once; exactly one must
   * win.
   */
  private void race(OffsetStore a, OffsetStore b, BatchCommit fromA, BatchCommit fromB)
      throws Exception {
    List<BatchCommit> before = store.history(group, 10);
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "sluice-test-committer");
              t.setUncaughtExceptionHandler((th, e) -> e.printStackTrace());
              return t;
            });
    try {
      List<Future<Throwable>> results = new ArrayList<>();
      for (Callable<Throwable> c :
          List.<Callable<Throwable>>of(
              () -> {
                start.await();
                return catchThrowable(() -> a.commit(fromA));
              },
              () -> {
                start.await();
                return catchThrowable(() -> b.commit(fromB));
              })) {
        results.add(pool.submit(c));
      }
      start.countDown();
      Throwable ra = results.get(0).get(60, TimeUnit.SECONDS);
      Throwable rb = results.get(1).get(60, TimeUnit.SECONDS);
      assertThat(ra == null ^ rb == null).as("exactly one commit wins: %s / %s", ra, rb).isTrue();
      Throwable loser = ra == null ? rb : ra;
      assertThat(loser).isInstanceOf(OffsetStoreException.class);
      BatchCommit winner = ra == null ? fromA : fromB;
      try (OffsetStore fresh = newStore()) {
        assertThat(fresh.committed(group))
            .isEqualTo(
                Map.of(
                    tp(ORDERS, 0),
                    winner.ranges().get(0).untilOffset(),
                    tp(ORDERS, 1),
                    winner.ranges().get(1).untilOffset()));
        List<BatchCommit> expected = new ArrayList<>(List.of(winner));
        expected.addAll(before);
        assertThat(fresh.history(group, 10)).containsExactlyElementsOf(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void commitStartingWhereTheStoreStandsIsAccepted() {
    store.commit(
        batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10), new OffsetRange(ORDERS, 1, 0, 4)));
    store.commit(
        batch(group, 1, new OffsetRange(ORDERS, 0, 10, 10), new OffsetRange(ORDERS, 1, 4, 9)));
    store.commit(batch(group, 2, new OffsetRange(ORDERS, 0, 10, 30)));

    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 30L, tp(ORDERS, 1), 9L));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(2));
  }

  @Test
  void commitStartingElsewhereIsRefusedNamingThePartitionAndChangesNothing() {
    BatchCommit first =
        batch(
            group,
            0,
            new OffsetRange(ORDERS, 0, 0, 10),
            new OffsetRange(ORDERS, 1, 0, 4),
            new OffsetRange(PAYMENTS, 0, 0, 7));
    store.commit(first);

    // Two partitions are off; the first by topic then partition is named, whatever the ranges'
    // order.
    BatchCommit off =
        batch(
            group,
            1,
            new OffsetRange(PAYMENTS, 0, 3, 9),
            new OffsetRange(ORDERS, 0, 10, 20),
            new OffsetRange(ORDERS, 1, 5, 9));
    assertThatThrownBy(() -> store.commit(off))
        .isInstanceOfSatisfying(
            OffsetFencedException.class,
            e -> {
              assertThat(e.group()).isEqualTo(group);
              assertThat(e.batchId()).isEqualTo(1);
              assertThat(e.topicPartition()).isEqualTo(tp(ORDERS, 1));
              assertThat(e.fromOffset()).isEqualTo(5);
              assertThat(e.storedOffset()).isEqualTo(4);
              assertThat(e)
                  .hasMessage(
                      "commit of batch 1 for group '"
                          + group
                          + "' refused by "
                          + store.describe()
                          + ": partition orders-1: the batch's range starts at offset 5 but the committed next offset is 4; another"
                          + " driver or a reset (sluice offsets reset/import) moved this group. Stop the other driver; a restart"
                          + " continues from the committed position");
            });

    Map<TopicPartition, Long> unchanged =
        Map.of(tp(ORDERS, 0), 10L, tp(ORDERS, 1), 4L, tp(PAYMENTS, 0), 7L);
    assertThat(store.committed(group)).isEqualTo(unchanged);
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(0));
    assertThat(store.history(group, 10)).containsExactly(first);
    try (OffsetStore fresh = newStore()) {
      assertThat(fresh.committed(group)).isEqualTo(unchanged);
      assertThat(fresh.history(group, 10)).containsExactly(first);
    }
    // The refused commit did not use up its batch id.
    store.commit(batch(group, 1, new OffsetRange(ORDERS, 1, 4, 9)));
    assertThat(store.committed(group)).containsEntry(tp(ORDERS, 1), 9L);
  }

  @Test
  void partitionNeverCommittedIsAcceptedFromAnyOffset() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 42, 50)));
    store.commit(
        batch(
            group, 1, new OffsetRange(ORDERS, 0, 50, 55), new OffsetRange(PAYMENTS, 1, 500, 600)));

    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 55L, tp(PAYMENTS, 1), 600L));
  }

  @Test
  void resetByThisStoreFencesACommitPlannedFromTheOldPosition() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    store.reset(group, Map.of(tp(ORDERS, 0), 3L));

    assertFencedAfterReset(store, batch(group, 2, new OffsetRange(ORDERS, 0, 10, 20)));
  }

  @Test
  void resetByAnotherStoreFencesACommitPlannedFromTheOldPosition() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    // Another instance on the same backend, as the command line opens one.
    try (OffsetStore operator = newStore()) {
      operator.reset(group, Map.of(tp(ORDERS, 0), 3L));
    }

    assertFencedAfterReset(store, batch(group, 2, new OffsetRange(ORDERS, 0, 10, 20)));
  }

  /**
   * {@code planned} (from 10, orders-0) is refused by {@code driver}; the reset to 3 stays and the
   * stream goes on from it.
   */
  private void assertFencedAfterReset(OffsetStore driver, BatchCommit planned) {
    assertThatThrownBy(() -> driver.commit(planned))
        .isInstanceOfSatisfying(
            OffsetFencedException.class,
            e -> {
              assertThat(e.topicPartition()).isEqualTo(tp(ORDERS, 0));
              assertThat(e.fromOffset()).isEqualTo(10);
              assertThat(e.storedOffset()).isEqualTo(3);
            });
    try (OffsetStore restarted = newStore()) {
      assertThat(restarted.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 3L));
      assertThat(restarted.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
      restarted.commit(batch(group, 2, new OffsetRange(ORDERS, 0, 3, 8)));
      assertThat(restarted.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 8L));
    }
  }

  @Test
  void resetMovesAPositionArbitrarily() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    store.reset(group, Map.of(tp(ORDERS, 0), 500L));
    store.reset(group, Map.of(tp(ORDERS, 0), 2L));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 2L));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(2));
  }

  @Test
  void twoDriversCommittingFromOnePositionExactlyOneWins() throws Exception {
    store.commit(
        batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10), new OffsetRange(ORDERS, 1, 0, 10)));
    // Different batch ids: only the offsets tell that both were planned from the same position.
    BatchCommit fromA =
        batch(group, 1, new OffsetRange(ORDERS, 0, 10, 111), new OffsetRange(ORDERS, 1, 10, 112));
    BatchCommit fromB =
        batch(group, 2, new OffsetRange(ORDERS, 0, 10, 221), new OffsetRange(ORDERS, 1, 10, 222));
    try (OffsetStore second = newStore()) {
      race(store, second, fromA, fromB);
    }
  }

  @Test
  void resetIsRecordedAsTheNextBatch() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    store.reset(group, Map.of(tp(ORDERS, 0), 3L, tp(ORDERS, 1), 8L));
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 3L, tp(ORDERS, 1), 8L));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
    assertThat(store.history(group, 1).get(0).ranges())
        .containsExactly(new OffsetRange(ORDERS, 0, 3, 3), new OffsetRange(ORDERS, 1, 8, 8));
  }

  @Test
  void fromBatchResolvesWhereTheSavedBatchStarted() {
    store.commit(
        batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10), new OffsetRange(ORDERS, 1, 0, 4)));
    store.commit(
        batch(group, 1, new OffsetRange(ORDERS, 0, 10, 25), new OffsetRange(ORDERS, 1, 4, 9)));
    store.commit(batch(group, 2, new OffsetRange(ORDERS, 0, 25, 30)));

    StartingOffsets start = StartingOffsets.fromBatch(store, group, 1);
    assertThat(OffsetStores.startingPositions((StartingOffsets.FromBatch) start))
        .isEqualTo(Map.of(tp(ORDERS, 0), 10L, tp(ORDERS, 1), 4L));
    assertThat(OffsetStores.rangesOfBatch(store, group, 2))
        .containsExactly(new OffsetRange(ORDERS, 0, 25, 30));
    assertThatThrownBy(() -> OffsetStores.rangesOfBatch(store, group, 7))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessage(
            "batch 7 of group '"
                + group
                + "' is not in the history of "
                + store.describe()
                + " (its newest batch is 2; older batches may have passed the history retention)");
    assertThatThrownBy(() -> OffsetStores.rangesOfBatch(store, group + "-none", 0))
        .hasMessageContaining("it holds no batches for this group");
  }

  @Test
  void badArgumentsAreRefusedWithClearMessages() {
    assertThatThrownBy(() -> new OffsetRange(ORDERS, 0, -1, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fromOffset must be >= 0, was -1 for orders-0");
    assertThatThrownBy(() -> new BatchCommit(group, -2, T0, List.of()))
        .hasMessage("batchId must be >= 0, was -2");
    assertThatThrownBy(() -> store.committed(" ")).hasMessage("group must not be blank");
    assertThatThrownBy(() -> store.commit(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void closedStoreRefusesCalls() {
    OffsetStore s = newStore();
    s.close();
    s.close();
    assertThatThrownBy(() -> s.commit(batch(group, 0)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
  }
}
