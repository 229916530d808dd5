package io.sluice.engine.receiver.internal;

import static io.sluice.engine.receiver.internal.WalTesting.copyDir;
import static io.sluice.engine.receiver.internal.WalTesting.flipByte;
import static io.sluice.engine.receiver.internal.WalTesting.truncate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adding, allocating, cleaning, and recovering the tracker from its log at every step. */
class ReceivedBlockTrackerTest {

  @TempDir Path tmp;

  private final ManualClock clock = new ManualClock();

  /** What a tracker shows; two trackers in the same state have equal views. */
  record View(
      Map<String, List<ReceivedBlock>> unallocated,
      List<BatchAllocation> allocations,
      long lastAllocated) {
    static View of(ReceivedBlockTracker t) {
      return new View(t.unallocatedBlocks(), t.allocatedBatches(), t.lastAllocatedBatch());
    }
  }

  private static ReceivedBlock block(String stream, long id, long segment) {
    return new ReceivedBlock(
        stream,
        id,
        new WalPointer(segment, 32 + 100 * id, 88),
        10 + id,
        Map.of("orders-" + id % 3, Long.toString(1000 + id)));
  }

  private ReceivedBlockTracker open(Path dir, long compactAfterBytes) {
    return ReceivedBlockTracker.open(dir, compactAfterBytes, clock);
  }

  @Test
  void allocatesEveryUnallocatedBlockOnceInOrderAndForgetsCleanedBatches() {
    try (ReceivedBlockTracker t = open(tmp.resolve("t"), 1 << 20)) {
      t.addBlock(block("a", 0, 0));
      t.addBlock(block("b", 0, 5));
      t.addBlock(block("a", 1, 1));
      BatchAllocation b0 = t.allocateBlocksToBatch(0);
      assertThat(b0.blocksOf("a")).containsExactly(block("a", 0, 0), block("a", 1, 1));
      assertThat(b0.blocksOf("b")).containsExactly(block("b", 0, 5));
      assertThat(t.unallocatedBlocks()).isEmpty();

      t.addBlock(block("a", 2, 2));
      assertThat(t.unallocatedBlocks()).containsOnlyKeys("a");
      BatchAllocation b1 = t.allocateBlocksToBatch(1);
      assertThat(b1.allBlocks()).containsExactly(block("a", 2, 2));
      BatchAllocation b2 = t.allocateBlocksToBatch(2);
      assertThat(b2.blocks()).isEmpty();

      // a replayed batch gets the same blocks
      assertThat(t.allocateBlocksToBatch(1)).isEqualTo(b1);
      assertThat(t.blocksOfBatch(0)).contains(b0);
      assertThat(t.firstNeededSegments()).containsExactly(Map.entry("a", 0L), Map.entry("b", 5L));

      assertThat(t.cleanupOldBatches(0)).containsExactly(Map.entry("a", 2L));
      assertThat(t.blocksOfBatch(0)).isEmpty();
      assertThat(t.cleanupOldBatches(0)).as("idempotent").containsExactly(Map.entry("a", 2L));
      assertThat(t.cleanupOldBatches(2)).isEmpty();
      assertThatThrownBy(() -> t.allocateBlocksToBatch(1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("batch 1 cannot be allocated");
      assertThatThrownBy(() -> t.cleanupOldBatches(3))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("last allocated batch is 2");
      t.addBlock(block("a", 3, 3));
      assertThatThrownBy(() -> t.addBlock(block("a", 3, 3)))
          .as("block ids are unique per stream while held")
          .isInstanceOf(IllegalStateException.class);
      assertThat(t.lastAllocatedBatch()).isEqualTo(2);
    }
  }

  /** A script of tracker operations, a step at a time. */
  private static List<Consumer<ReceivedBlockTracker>> script(int batches, long seed) {
    Random random = new Random(seed);
    List<Consumer<ReceivedBlockTracker>> steps = new ArrayList<>();
    long[] nextId = new long[3];
    for (int batch = 0; batch < batches; batch++) {
      int adds = random.nextInt(4);
      for (int i = 0; i < adds; i++) {
        int s = random.nextInt(3);
        long id = nextId[s]++;
        long segment = batch / 3;
        steps.add(t -> t.addBlock(block("stream-" + s, id, segment)));
      }
      long b = batch;
      steps.add(t -> t.allocateBlocksToBatch(b));
      if (batch >= 2 && random.nextInt(3) == 0) {
        steps.add(t -> t.cleanupOldBatches(b - 2));
      }
    }
    return steps;
  }

  @Test
  void recoversExactlyFromACrashAfterEveryStep() {
    Path dir = tmp.resolve("t");
    List<Consumer<ReceivedBlockTracker>> steps = script(30, 3);
    try (ReceivedBlockTracker live = open(dir, 2000)) {
      for (int i = 0; i < steps.size(); i++) {
        steps.get(i).accept(live);
        View expected = View.of(live);
        // the files as they are now are what a crash (kill -9 or power loss) leaves: every event
        // was fsynced before the call returned
        Path image = copyDir(dir, tmp.resolve("crash-" + i));
        try (ReceivedBlockTracker recovered = open(image, 2000)) {
          assertThat(View.of(recovered)).as("after step %d", i).isEqualTo(expected);
        }
      }
      assertThat(live.logSegments().size()).as("compacted").isLessThanOrEqualTo(2);
    }
  }

  @Test
  void aReplayedBatchGetsTheSameBlocksAfterRecoveryAndNewBlocksWaitForTheNext() {
    Path dir = tmp.resolve("t");
    BatchAllocation b0;
    try (ReceivedBlockTracker t = open(dir, 1 << 20)) {
      t.addBlock(block("a", 0, 0));
      b0 = t.allocateBlocksToBatch(0);
      t.addBlock(block("a", 1, 0));
    }
    try (ReceivedBlockTracker t = open(dir, 1 << 20)) {
      t.addBlock(block("a", 2, 0));
      assertThat(t.allocateBlocksToBatch(0)).isEqualTo(b0);
      assertThat(t.allocateBlocksToBatch(1).blocksOf("a"))
          .containsExactly(block("a", 1, 0), block("a", 2, 0));
    }
  }

  @Test
  void cutsATornLastEventAtEveryByteAndRecoversTheStateBeforeIt() throws Exception {
    Path dir = tmp.resolve("t");
    View before;
    try (ReceivedBlockTracker t = open(dir, 1 << 20)) {
      for (int i = 0; i < 5; i++) {
        t.addBlock(block("a", i, 0));
      }
      t.allocateBlocksToBatch(0);
      t.addBlock(block("b", 0, 1));
      before = View.of(t);
      t.allocateBlocksToBatch(1);
    }
    Path file = lastSegment(dir);
    long sealAt = Files.size(file) - WalFormat.RECORD_HEADER_LENGTH;
    long lastEventAt;
    try (WriteAheadLog scan =
            WriteAheadLog.open(
                "scan", copyDir(dir, tmp.resolve("scan")), WalSettings.defaults(), clock);
        WalIterator it = scan.iterate()) {
      long offset = -1;
      while (it.hasNext()) {
        WalRecord r = it.next();
        if (r.pointer().segment() == segmentOf(file)) {
          offset = r.pointer().offset();
        }
      }
      lastEventAt = offset;
    }
    for (long cut = lastEventAt + 1; cut < sealAt; cut++) {
      Path image = copyDir(dir, tmp.resolve("cut-" + cut));
      truncate(image.resolve(file.getFileName()), cut);
      try (WalTesting.Warnings warnings = new WalTesting.Warnings(WriteAheadLog.class);
          ReceivedBlockTracker t = open(image, 1 << 20)) {
        assertThat(View.of(t)).as("cut at %d", cut).isEqualTo(before);
        assertThat(warnings.messages())
            .singleElement()
            .asString()
            .contains("at byte " + lastEventAt);
      }
    }
  }

  @Test
  void refusesAFlippedByteInAnEventBeforeTheLast() {
    Path dir = tmp.resolve("t");
    try (ReceivedBlockTracker t = open(dir, 1 << 20)) {
      t.addBlock(block("a", 0, 0));
      t.addBlock(block("a", 1, 0));
      t.allocateBlocksToBatch(0);
    }
    Path file = lastSegment(dir);
    flipByte(file, WalFormat.SEGMENT_HEADER_LENGTH + 20);
    assertThatThrownBy(() -> open(dir, 1 << 20))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining(file + " is corrupt at byte " + WalFormat.SEGMENT_HEADER_LENGTH);
  }

  @Test
  void compactsTheLogIntoACheckpointAndDeletesOlderSegments() throws Exception {
    Path dir = tmp.resolve("t");
    Path beforeCompaction = null;
    try (ReceivedBlockTracker t = open(dir, 3000)) {
      long id = 0;
      for (int batch = 0; batch < 200; batch++) {
        for (int i = 0; i < 3; i++) {
          t.addBlock(block("a", id++, batch));
        }
        List<Long> segments = t.logSegments();
        if (beforeCompaction == null && batch > 0) {
          beforeCompaction = copyDir(dir, tmp.resolve("before"));
        }
        t.allocateBlocksToBatch(batch);
        if (batch >= 5) {
          t.cleanupOldBatches(batch - 5);
        }
        assertThat(segments.size()).isLessThanOrEqualTo(2);
      }
      View expected = View.of(t);
      assertThat(expected.allocations()).hasSize(5);
      assertThat(t.logSegments().get(0)).as("segments were rolled and deleted").isGreaterThan(10);
      long logBytes = 0;
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.toList()) {
          logBytes += Files.size(f);
        }
      }
      assertThat(logBytes).isLessThan(3 * 3000);

      // a crash after the checkpoint and before the deletion leaves both: the checkpoint wins
      Path image = copyDir(dir, tmp.resolve("after"));
      long firstKept = t.logSegments().get(0);
      // the old segments as the compaction's roll leaves them: sealed
      WriteAheadLog.open("seal", beforeCompaction, WalSettings.defaults(), clock).close();
      try (Stream<Path> old = Files.list(beforeCompaction)) {
        for (Path f : old.toList()) {
          if (segmentOf(f) < firstKept) {
            Files.copy(f, image.resolve(f.getFileName()));
          }
        }
      }
      try (ReceivedBlockTracker recovered = open(image, 3000)) {
        assertThat(View.of(recovered)).isEqualTo(expected);
      }
    }
    try (ReceivedBlockTracker recovered = open(dir, 3000)) {
      assertThat(recovered.allocatedBatches()).hasSize(5);
      assertThat(recovered.lastAllocatedBatch()).isEqualTo(199);
    }
  }

  @Test
  void refusesAnEventOfANewerFormat() {
    Path dir = tmp.resolve("t");
    try (WriteAheadLog log = WriteAheadLog.open("x", dir, WalSettings.defaults(), clock)) {
      log.append("{\"v\":3,\"type\":\"blockAdded\"}".getBytes(StandardCharsets.UTF_8));
    }
    assertThatThrownBy(() -> open(dir, 1 << 20))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("format version 3, newer than version 2");
  }

  @Test
  void keepsTheLatestMarksOfAStreamAfterItsBlocksAreCleanedAcrossCompactionAndRestart() {
    Path dir = tmp.resolve("t");
    try (ReceivedBlockTracker t = open(dir, 600)) {
      for (long id = 0; id < 12; id++) {
        t.addBlock(block("s", id, 0)); // marks orders-(id % 3) -> 1000 + id
        t.allocateBlocksToBatch(id);
        t.cleanupOldBatches(id);
      }
      t.addBlock(new ReceivedBlock("other", 0, new WalPointer(0, 32, 8), 1, Map.of("x-0", "5")));
      assertThat(t.unallocatedBlocks()).containsOnlyKeys("other");
      assertThat(t.marks("s"))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("orders-0", "1009", "orders-1", "1010", "orders-2", "1011"));
    }
    try (ReceivedBlockTracker recovered = open(dir, 600)) {
      assertThat(recovered.marks("s"))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("orders-0", "1009", "orders-1", "1010", "orders-2", "1011"));
      assertThat(recovered.marks("other")).isEqualTo(Map.of("x-0", "5"));
      assertThat(recovered.marks("none")).isEmpty();
    }
  }

  @Test
  void concurrentAddsAndAllocationsGiveEveryBlockToExactlyOneBatch() throws Exception {
    Path dir = tmp.resolve("t");
    int writers = 4;
    int perWriter = 100;
    Set<String> allocated = new HashSet<>();
    List<BatchAllocation> batches = new ArrayList<>();
    try (ReceivedBlockTracker t = open(dir, 4000)) {
      CountDownLatch done = new CountDownLatch(writers);
      ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
      for (int w = 0; w < writers; w++) {
        String stream = "s" + w;
        Thread thread =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < perWriter; i++) {
                      t.addBlock(block(stream, i, i / 10));
                    }
                  } catch (Throwable e) {
                    errors.add(e);
                  } finally {
                    done.countDown();
                  }
                });
        thread.start();
      }
      long batch = 0;
      while (done.getCount() > 0) {
        batches.add(t.allocateBlocksToBatch(batch++));
      }
      batches.add(t.allocateBlocksToBatch(batch));
      assertThat(errors).isEmpty();
      View expected = View.of(t);
      for (BatchAllocation b : batches) {
        for (ReceivedBlock rb : b.allBlocks()) {
          assertThat(allocated.add(rb.stream() + "/" + rb.blockId())).isTrue();
        }
      }
      assertThat(allocated).hasSize(writers * perWriter);
      try (ReceivedBlockTracker recovered = open(copyDir(dir, tmp.resolve("image")), 4000)) {
        assertThat(View.of(recovered)).isEqualTo(expected);
      }
    }
  }

  @Test
  void keepsBlocksWithoutALogPointer() {
    Path dir = tmp.resolve("t");
    ReceivedBlock inMemory = new ReceivedBlock("m", 0, null, 5, Map.of());
    try (ReceivedBlockTracker t = open(dir, 1 << 20)) {
      t.addBlock(inMemory);
      assertThat(t.firstNeededSegments()).isEmpty();
    }
    try (ReceivedBlockTracker t = open(dir, 1 << 20)) {
      assertThat(t.allocateBlocksToBatch(0).allBlocks()).containsExactly(inMemory);
    }
  }

  private static Path lastSegment(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      // the newest segment is the empty one a close leaves; the events are in the one before
      List<Path> segments =
          files.filter(f -> f.toString().endsWith(WalFormat.SUFFIX)).sorted().toList();
      return segments.get(segments.size() - 1);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static long segmentOf(Path file) {
    return WalFormat.segmentOf(file.getFileName().toString());
  }
}
