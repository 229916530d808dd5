package io.sluice.engine.receiver.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.ManualClock;
import io.sluice.engine.SystemClock;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Durability acknowledgements: fsync per call, the interval syncer, and appends from threads. */
class WalGroupCommitTest {

  private static final WalSettings TEN_MS =
      WalSettings.defaults().withSyncInterval(Duration.ofMillis(10));

  @TempDir Path tmp;

  private final ManualClock clock = new ManualClock();

  private static byte[] record(int writer, int i) {
    return ByteBuffer.allocate(8 + i % 100).putInt(writer).putInt(i).array();
  }

  /** Runs {@code writers} threads, each calling {@code body} with its index, and waits for all. */
  private static void concurrently(int writers, java.util.function.IntConsumer body)
      throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      Thread t =
          new Thread(
              () -> {
                try {
                  start.await();
                  body.accept(writer);
                } catch (Throwable e) {
                  errors.add(e);
                }
              },
              "test-writer-" + w);
      t.start();
      threads.add(t);
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(errors).isEmpty();
  }

  @Test
  void intervalSyncerAcknowledgesAnIntervalsAppendsWithOneFsyncOnlyAfterIt() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open("gc", tmp.resolve("wal"), TEN_MS, clock)) {
      // after an idle spell, the first record is synced at once
      wal.appendAsync(new byte[] {0}).get();
      await().until(() -> wal.syncCount() == 1);

      ConcurrentLinkedQueue<CompletableFuture<WalPointer>> acks = new ConcurrentLinkedQueue<>();
      concurrently(
          4,
          w -> {
            for (int i = 0; i < 250; i++) {
              acks.add(wal.appendAsync(record(w, i)));
            }
          });
      // within the same 10 ms (the clock has not moved) nothing is synced or acknowledged
      assertThat(acks).hasSize(1000).noneMatch(CompletableFuture::isDone);
      assertThat(wal.syncCount()).isEqualTo(1);

      clock.advance(Duration.ofMillis(10));
      await().until(() -> acks.stream().allMatch(CompletableFuture::isDone));
      assertThat(wal.syncCount()).isEqualTo(2);
      Set<WalPointer> pointers = new HashSet<>();
      for (CompletableFuture<WalPointer> ack : acks) {
        pointers.add(ack.get());
      }
      assertThat(pointers).hasSize(1000);
    }
  }

  @Test
  void explicitSyncAcknowledgesPendingAppendsWithoutASyncer() throws Exception {
    WalSettings noSyncer = TEN_MS.withSyncInterval(Duration.ZERO);
    try (WriteAheadLog wal = WriteAheadLog.open("gc", tmp.resolve("wal"), noSyncer, clock)) {
      CompletableFuture<WalPointer> a = wal.appendAsync(new byte[] {1});
      CompletableFuture<WalPointer> b = wal.appendAsync(new byte[] {2});
      assertThat(a).isNotDone();
      assertThat(b).isNotDone();
      wal.sync();
      assertThat(a).isCompleted();
      assertThat(wal.read(b.get())).containsExactly(2);
      assertThat(wal.syncCount()).isEqualTo(1);
      wal.sync();
      assertThat(wal.syncCount()).as("nothing new to sync").isEqualTo(1);
    }
  }

  @Test
  void aRollMakesTheClosedSegmentsRecordsDurable() {
    WalSettings small = TEN_MS.withSyncInterval(Duration.ZERO).withSegmentBytes(4096);
    try (WriteAheadLog wal = WriteAheadLog.open("gc", tmp.resolve("wal"), small, clock)) {
      CompletableFuture<WalPointer> first = wal.appendAsync(new byte[3000]);
      assertThat(first).isNotDone();
      wal.appendAsync(new byte[3000]);
      assertThat(first).isCompleted();
    }
  }

  @Test
  void closeAcknowledgesPendingAppendsAndLaterAppendsFail() {
    WriteAheadLog wal = WriteAheadLog.open("gc", tmp.resolve("wal"), TEN_MS, clock);
    wal.appendAsync(new byte[] {0}).join();
    CompletableFuture<WalPointer> pending = wal.appendAsync(new byte[] {1});
    wal.close();
    assertThat(pending).isCompleted();
    assertThatThrownBy(() -> wal.appendAsync(new byte[] {2}))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void appendAndSyncFromManyThreadsKeepsEveryRecordIntactAndEachWritersOrder()
      throws InterruptedException, ExecutionException {
    Path dir = tmp.resolve("wal");
    int writers = 8;
    int perWriter = 200;
    WalSettings settings = TEN_MS.withSegmentBytes(16 << 10);
    List<List<WalPointer>> pointers = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      pointers.add(new ArrayList<>());
    }
    // the real clock: the syncer acknowledges the async appends every 10 ms
    try (WriteAheadLog wal = WriteAheadLog.open("gc", dir, settings, SystemClock.INSTANCE)) {
      concurrently(
          writers,
          w -> {
            for (int i = 0; i < perWriter; i++) {
              if (i % 2 == 0) {
                pointers.get(w).add(wal.appendAndSync(record(w, i)));
              } else {
                pointers.get(w).add(wal.appendAsync(record(w, i)).join());
              }
            }
          });
      for (int w = 0; w < writers; w++) {
        for (int i = 0; i < perWriter; i++) {
          assertThat(wal.read(pointers.get(w).get(i))).isEqualTo(record(w, i));
        }
      }
      assertThat(wal.segments().size()).isGreaterThan(2);
    }
    try (WriteAheadLog wal = WriteAheadLog.open("gc", dir, settings, clock);
        WalIterator it = wal.iterate()) {
      int[] next = new int[writers];
      int total = 0;
      while (it.hasNext()) {
        ByteBuffer b = ByteBuffer.wrap(it.next().payload());
        int w = b.getInt();
        assertThat(b.getInt()).as("writer %d's order", w).isEqualTo(next[w]++);
        total++;
      }
      assertThat(total).isEqualTo(writers * perWriter);
    }
  }

  @Test
  void anInterruptedWriterDoesNotBreakTheLogForOthers() {
    try (WriteAheadLog wal = WriteAheadLog.open("gc", tmp.resolve("wal"), TEN_MS, clock)) {
      Thread.currentThread().interrupt();
      try {
        WalPointer p = wal.appendAndSync(new byte[] {9});
        assertThat(wal.read(p)).containsExactly(9);
      } finally {
        assertThat(Thread.interrupted()).as("interrupt status kept").isTrue();
      }
      assertThat(wal.read(wal.appendAndSync(new byte[] {10}))).containsExactly(10);
    }
  }
}
