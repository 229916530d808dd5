package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileOffsetLogTest {

  @TempDir Path dir;

  private Path log() {
    return dir.resolve("offsets.log");
  }

  private void commitThree() {
    try (OffsetStore store = OffsetStores.file(dir)) {
      for (long id = 0; id < 3; id++) {
        store.commit(
            new BatchCommit(
                "g",
                id,
                Instant.parse("2026-11-20T10:00:00Z"),
                List.of(new OffsetRange("orders", 0, id * 10, id * 10 + 10))));
      }
    }
  }

  @Test
  void tornTailIsIgnoredAndEarlierEntriesStay() throws IOException {
    commitThree();
    long size = Files.size(log());
    try (RandomAccessFile f = new RandomAccessFile(log().toFile(), "rw")) {
      f.setLength(size - 7);
    }
    try (OffsetStore store = OffsetStores.file(dir)) {
      assertThat(store.committed("g")).isEqualTo(Map.of(new TopicPartition("orders", 0), 20L));
      assertThat(store.lastBatchId("g")).isEqualTo(OptionalLong.of(1));
      // The next commit replaces the torn bytes and is readable by a fresh store.
      store.commit(
          new BatchCommit("g", 2, Instant.EPOCH, List.of(new OffsetRange("orders", 0, 20, 35))));
    }
    try (OffsetStore store = OffsetStores.file(dir)) {
      assertThat(store.committed("g")).isEqualTo(Map.of(new TopicPartition("orders", 0), 35L));
      assertThat(store.history("g", 10))
          .extracting(BatchCommit::batchId)
          .containsExactly(2L, 1L, 0L);
    }
  }

  @Test
  void flippedByteInTheLastEntryIsIgnoredWithAWarning() throws IOException {
    commitThree();
    flipByte(Files.size(log()) - 3);
    try (OffsetStore store = OffsetStores.file(dir)) {
      assertThat(store.lastBatchId("g")).isEqualTo(OptionalLong.of(1));
      assertThat(store.committed("g")).isEqualTo(Map.of(new TopicPartition("orders", 0), 20L));
    }
  }

  @Test
  void flippedByteInTheMiddleFailsNamingFileAndOffset() throws IOException {
    commitThree();
    long secondEntry = entryOffsets().get(1);
    flipByte(secondEntry + 20);
    assertThatThrownBy(() -> OffsetStores.file(dir))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageStartingWith(
            "offsets log "
                + log().toRealPath()
                + " is corrupt at byte offset "
                + secondEntry
                + " (a valid entry follows at byte offset "
                + entryOffsets().get(2)
                + ")");
  }

  @Test
  void newerFormatVersionIsRefused() throws IOException {
    commitThree();
    try (var ch = java.nio.channels.FileChannel.open(log(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4).putInt(0, 2), 8);
    }
    assertThatThrownBy(() -> OffsetStores.file(dir))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessage(
            log().toRealPath()
                + " has offsets log format version 2, this Sluice reads up to version 1:"
                + " upgrade Sluice to read it");
  }

  @Test
  void notAnOffsetsLogIsRefused() throws IOException {
    Files.writeString(log(), "hello, this is not an offsets log at all");
    assertThatThrownBy(() -> OffsetStores.file(dir))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessage(log().toRealPath() + " is not a Sluice offsets log: bad magic at offset 0");
  }

  @Test
  void longLogIsCompactedKeepingPositionsAndRetainedHistory() {
    try (OffsetStore store = OffsetStores.fileBuilder().dir(dir).historyRetention(10).build()) {
      store.commit(
          new BatchCommit("g", 0, Instant.EPOCH, List.of(new OffsetRange("payments", 3, 0, 77))));
      for (long id = 1; id <= 1500; id++) {
        store.commit(
            new BatchCommit(
                "g", id, Instant.EPOCH, List.of(new OffsetRange("orders", 0, id, id + 1))));
      }
    }
    try (OffsetStore store = OffsetStores.fileBuilder().dir(dir).historyRetention(10).build()) {
      assertThat(store.committed("g"))
          .isEqualTo(
              Map.of(
                  new TopicPartition("orders", 0), 1501L, new TopicPartition("payments", 3), 77L));
      assertThat(store.lastBatchId("g")).isEqualTo(OptionalLong.of(1500));
      assertThat(store.history("g", 100))
          .hasSize(10)
          .first()
          .extracting(BatchCommit::batchId)
          .isEqualTo(1500L);
      assertThatThrownBy(() -> store.commit(new BatchCommit("g", 1400, Instant.EPOCH, List.of())))
          .isInstanceOf(StaleBatchException.class);
    }
  }

  private void flipByte(long offset) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(log().toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0x40);
    }
  }

  /** Byte offsets of the entries, walking the length fields. */
  private List<Long> entryOffsets() throws IOException {
    byte[] bytes = Files.readAllBytes(log());
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    java.util.ArrayList<Long> offsets = new java.util.ArrayList<>();
    int pos = 20;
    while (pos + 12 <= bytes.length && buf.getInt(pos) == 0x534C4345) {
      offsets.add((long) pos);
      pos += 12 + Math.max(0, buf.getInt(pos + 4));
    }
    return offsets;
  }
}
