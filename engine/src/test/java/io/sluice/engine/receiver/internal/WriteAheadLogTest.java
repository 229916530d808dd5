package io.sluice.engine.receiver.internal;

import static io.sluice.engine.receiver.internal.WalTesting.appendBytes;
import static io.sluice.engine.receiver.internal.WalTesting.copyDir;
import static io.sluice.engine.receiver.internal.WalTesting.flipByte;
import static io.sluice.engine.receiver.internal.WalTesting.payload;
import static io.sluice.engine.receiver.internal.WalTesting.segmentFile;
import static io.sluice.engine.receiver.internal.WalTesting.size;
import static io.sluice.engine.receiver.internal.WalTesting.truncate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.ManualClock;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Appending, reading, rolling, cleaning and recovering a write-ahead log, without the syncer. */
class WriteAheadLogTest {

  static final WalSettings NO_SYNCER = WalSettings.defaults().withSyncInterval(Duration.ZERO);

  @TempDir Path tmp;

  private final ManualClock clock = new ManualClock();
  private final Random random = new Random(13);

  private WriteAheadLog open(Path dir, WalSettings settings) {
    return WriteAheadLog.open("test", dir, settings, clock);
  }

  private static List<WalRecord> readAll(WriteAheadLog wal) {
    List<WalRecord> all = new ArrayList<>();
    try (WalIterator it = wal.iterate()) {
      it.forEachRemaining(all::add);
    }
    return all;
  }

  private static void assertRecords(List<WalRecord> actual, List<byte[]> expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      assertThat(actual.get(i).payload()).as("record %d", i).isEqualTo(expected.get(i));
    }
  }

  /** Appends records, closes the log, and returns their payloads. */
  private List<WalPointer> write(Path dir, WalSettings settings, List<byte[]> payloads) {
    List<WalPointer> pointers = new ArrayList<>();
    try (WriteAheadLog wal = open(dir, settings)) {
      for (byte[] p : payloads) {
        pointers.add(wal.append(p));
      }
    }
    return pointers;
  }

  @Test
  void roundTripsRecordsOfEverySizeThroughReadIterateAndReopen() {
    List<byte[]> payloads = new ArrayList<>();
    for (int size = 0; size <= 300; size++) {
      payloads.add(payload(random, size));
    }
    for (int size : new int[] {8 << 10, (8 << 10) + 1, 64 << 10, 1 << 20, 5 << 20}) {
      payloads.add(payload(random, size));
    }
    Path dir = tmp.resolve("wal");
    List<WalPointer> pointers = new ArrayList<>();
    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      for (byte[] p : payloads) {
        pointers.add(wal.append(p));
      }
      for (int i = 0; i < payloads.size(); i++) {
        assertThat(wal.read(pointers.get(i))).isEqualTo(payloads.get(i));
        assertThat(pointers.get(i).length()).isEqualTo(payloads.get(i).length);
      }
      assertRecords(readAll(wal), payloads);
    }

    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      List<WalRecord> recovered = readAll(wal);
      assertRecords(recovered, payloads);
      assertThat(recovered).extracting(WalRecord::pointer).isEqualTo(pointers);
      assertThat(wal.read(pointers.get(150))).isEqualTo(payloads.get(150));
      assertThat(wal.activeSegment()).isEqualTo(1);
    }
  }

  @Test
  void appendsOfOneWriterKeepTheirOrderAcrossSegments() {
    Path dir = tmp.resolve("wal");
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      payloads.add(ByteBuffer.allocate(4 + i % 50).putInt(i).array());
    }
    write(dir, NO_SYNCER.withSegmentBytes(4096), payloads);
    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      assertRecords(readAll(wal), payloads);
    }
  }

  @Test
  void rollsBeforeAnAppendWouldPassTheSegmentSize() {
    Path dir = tmp.resolve("wal");
    WalSettings settings = NO_SYNCER.withSegmentBytes(4096);
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      payloads.add(payload(random, 500));
    }
    payloads.add(payload(random, 10_000));
    payloads.add(payload(random, 10));
    List<WalPointer> pointers = write(dir, settings, payloads);

    // 4096 - 32 header - 12 seal = 4052 bytes of records: 7 records of 512 bytes per segment
    assertThat(pointers.subList(0, 40))
        .extracting(WalPointer::segment)
        .containsExactlyElementsOf(
            java.util.stream.IntStream.range(0, 40).mapToObj(i -> (long) i / 7).toList());
    assertThat(pointers.get(40).segment()).isEqualTo(6);
    assertThat(pointers.get(41).segment()).isEqualTo(7);
    for (long s = 0; s <= 7; s++) {
      if (s != 6) {
        assertThat(size(segmentFile(dir, s))).isLessThanOrEqualTo(4096);
      }
    }
    try (WriteAheadLog wal = open(dir, settings)) {
      assertThat(wal.segments()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
      assertRecords(readAll(wal), payloads);
    }
  }

  @Test
  void rollsASegmentOlderThanTheSegmentAgeAtTheNextAppend() {
    WalSettings settings = NO_SYNCER.withSegmentAge(Duration.ofSeconds(5));
    try (WriteAheadLog wal = open(tmp.resolve("wal"), settings)) {
      clock.advance(Duration.ofSeconds(60));
      // age counts from a segment's first record: an idle empty segment does not roll
      assertThat(wal.append(new byte[1]).segment()).isEqualTo(0);
      clock.advance(Duration.ofMillis(4999));
      assertThat(wal.append(new byte[1]).segment()).isEqualTo(0);
      clock.advance(Duration.ofMillis(1));
      assertThat(wal.append(new byte[1]).segment()).isEqualTo(1);
      clock.advance(Duration.ofMillis(4999));
      assertThat(wal.append(new byte[1]).segment()).isEqualTo(1);
      clock.advance(Duration.ofMillis(1));
      assertThat(wal.append(new byte[1]).segment()).isEqualTo(2);
      assertThat(readAll(wal)).hasSize(5);
    }
  }

  @Test
  void deletesClosedSegmentsBeforeTheGivenOneButNeverTheActiveOne() {
    Path dir = tmp.resolve("wal");
    WalSettings settings = NO_SYNCER.withSegmentBytes(4096);
    try (WriteAheadLog wal = open(dir, settings)) {
      List<WalPointer> pointers = new ArrayList<>();
      List<byte[]> payloads = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        payloads.add(payload(random, 1000));
        pointers.add(wal.append(payloads.get(i)));
      }
      assertThat(wal.segments()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);

      assertThat(wal.deleteSegmentsBefore(3)).containsExactly(0L, 1L, 2L);
      assertThat(Files.exists(segmentFile(dir, 2))).isFalse();
      assertThat(wal.segments()).containsExactly(3L, 4L, 5L, 6L, 7L);
      assertThatThrownBy(() -> wal.read(pointers.get(0)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("does not exist");
      assertThat(wal.read(pointers.get(12))).isEqualTo(payloads.get(12));
      assertRecords(readAll(wal), payloads.subList(12, 30));

      assertThat(wal.deleteSegmentsBefore(Long.MAX_VALUE)).containsExactly(3L, 4L, 5L, 6L);
      assertThat(wal.segments()).containsExactly(7L);
      assertThat(wal.read(pointers.get(29))).isEqualTo(payloads.get(29));
    }
    try (WriteAheadLog wal = open(dir, settings)) {
      // ids keep increasing after a restart: the kept segment remembers where they were
      assertThat(wal.segments()).containsExactly(7L, 8L);
    }
  }

  @Test
  void cutsATornLastRecordAtEveryBytePositionWithAWarnAndKeepsEveryEarlierRecord() {
    Path original = tmp.resolve("original");
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      payloads.add(payload(random, 20 + i));
    }
    payloads.add(payload(random, 60));
    List<WalPointer> pointers = write(original, NO_SYNCER, payloads);
    WalPointer last = pointers.get(5);
    Path file = segmentFile(original, 0);
    assertThat(size(file)).isEqualTo(last.end() + 12);

    for (long cut = last.offset(); cut <= last.end(); cut++) {
      Path dir = copyDir(original, tmp.resolve("cut-" + cut));
      truncate(segmentFile(dir, 0), cut);
      boolean torn = cut > last.offset() && cut < last.end();
      try (WalTesting.Warnings warnings = new WalTesting.Warnings(WriteAheadLog.class);
          WriteAheadLog wal = open(dir, NO_SYNCER)) {
        List<byte[]> expected = cut == last.end() ? payloads : payloads.subList(0, 5);
        assertRecords(readAll(wal), expected);
        if (torn) {
          assertThat(warnings.messages())
              .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
              .contains("Cutting a torn record")
              .contains(segmentFile(dir, 0).toString())
              .contains("at byte " + last.offset());
        } else {
          assertThat(warnings.messages()).isEmpty();
        }
        long kept = cut == last.end() ? last.end() : last.offset();
        assertThat(size(segmentFile(dir, 0))).as("cut %d", cut).isEqualTo(kept + 12);
        assertThat(wal.append(new byte[] {1}).segment()).isEqualTo(1);
      }
    }
  }

  @Test
  void cutsAZeroFilledTailLeftByTheFileSystem() {
    Path dir = tmp.resolve("wal");
    List<byte[]> payloads = List.of(payload(random, 100), payload(random, 100));
    List<WalPointer> pointers = write(dir, NO_SYNCER, payloads);
    Path file = segmentFile(dir, 0);
    truncate(file, pointers.get(1).end());
    appendBytes(file, new byte[4096]);

    try (WalTesting.Warnings warnings = new WalTesting.Warnings(WriteAheadLog.class);
        WriteAheadLog wal = open(dir, NO_SYNCER)) {
      assertRecords(readAll(wal), payloads);
      assertThat(warnings.messages())
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .contains("zero-filled tail")
          .contains("at byte " + pointers.get(1).end());
    }
  }

  @Test
  void refusesAFlippedByteAtEveryPositionOfARecordBeforeTheEndNamingFileAndOffset() {
    Path original = tmp.resolve("original");
    List<byte[]> payloads = List.of(payload(random, 30), payload(random, 40), payload(random, 30));
    List<WalPointer> pointers = write(original, NO_SYNCER, payloads);
    WalPointer middle = pointers.get(1);

    for (long pos = middle.offset(); pos < middle.end(); pos++) {
      Path dir = copyDir(original, tmp.resolve("flip-" + pos));
      Path file = segmentFile(dir, 0);
      // unsealed, as after a crash: the segment is the newest and gets read through on open
      truncate(file, pointers.get(2).end());
      flipByte(file, pos);
      assertThatThrownBy(() -> open(dir, NO_SYNCER))
          .as("flipped byte %d", pos)
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("is corrupt at byte " + middle.offset())
          .hasMessageContaining("checksum");
    }
  }

  @Test
  void refusesAFlippedByteInTheLastRecordOfASealedSegment() {
    Path dir = tmp.resolve("wal");
    List<WalPointer> pointers =
        write(dir, NO_SYNCER, List.of(payload(random, 30), payload(random, 30)));
    WalPointer last = pointers.get(1);
    for (long pos = last.offset(); pos < last.end() + 12; pos++) {
      Path copy = copyDir(dir, tmp.resolve("flip-" + pos));
      flipByte(segmentFile(copy, 0), pos);
      assertThatThrownBy(() -> open(copy, NO_SYNCER))
          .as("flipped byte %d", pos)
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining(segmentFile(copy, 0).toString())
          .hasMessageContaining("is corrupt at byte");
    }
  }

  @Test
  void refusesDamageInAnOlderSegmentWhenItIsReadOrIterated() {
    Path dir = tmp.resolve("wal");
    List<byte[]> payloads = List.of(payload(random, 50), payload(random, 50));
    List<WalPointer> pointers = write(dir, NO_SYNCER, payloads);
    try (WriteAheadLog second = open(dir, NO_SYNCER)) {
      second.append(new byte[1]);
    }
    flipByte(segmentFile(dir, 0), pointers.get(0).offset() + 20);

    // segment 0 is no longer the newest: open checks only its header
    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      String where = segmentFile(dir, 0) + " is corrupt at byte " + pointers.get(0).offset();
      assertThatThrownBy(() -> wal.read(pointers.get(0)))
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining(where);
      assertThat(wal.read(pointers.get(1))).isEqualTo(payloads.get(1));
      assertThatThrownBy(() -> readAll(wal))
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining(where);
    }
  }

  @Test
  void refusesAnOlderSegmentThatLostWholeRecordsAtItsEnd() {
    Path dir = tmp.resolve("wal");
    List<WalPointer> pointers =
        write(dir, NO_SYNCER, List.of(payload(random, 50), payload(random, 50)));
    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      wal.append(new byte[1]);
    }
    truncate(segmentFile(dir, 0), pointers.get(0).end());
    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      assertThatThrownBy(() -> readAll(wal))
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining(
              segmentFile(dir, 0) + " is corrupt at byte " + pointers.get(0).end())
          .hasMessageContaining("without its seal");
    }
  }

  @Test
  void refusesADamagedSegmentHeader() {
    Path dir = tmp.resolve("wal");
    write(dir, NO_SYNCER, List.of(payload(random, 10)));
    for (int pos = 0; pos < WalFormat.SEGMENT_HEADER_LENGTH; pos++) {
      Path copy = copyDir(dir, tmp.resolve("flip-" + pos));
      flipByte(segmentFile(copy, 0), pos);
      assertThatThrownBy(() -> open(copy, NO_SYNCER))
          .as("flipped header byte %d", pos)
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining(segmentFile(copy, 0) + " is corrupt at byte 0");
    }
  }

  @Test
  void refusesASegmentOfANewerFormat() throws Exception {
    Path dir = tmp.resolve("wal");
    write(dir, NO_SYNCER, List.of(payload(random, 10)));
    Path file = segmentFile(dir, 0);
    byte[] header = WalFormat.segmentHeader(0, 0);
    ByteBuffer b = ByteBuffer.wrap(header);
    b.putShort(4, (short) 2);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(header, 0, 8);
    crc.update(header, 12, 20);
    b.putInt(8, (int) crc.getValue());
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.write(header);
    }
    assertThatThrownBy(() -> open(dir, NO_SYNCER))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("format version 2, newer than version 1");
  }

  @Test
  void deletesATemporarySegmentLeftByAnInterruptedCreation() throws Exception {
    Path dir = tmp.resolve("wal");
    write(dir, NO_SYNCER, List.of(payload(random, 10)));
    Files.write(dir.resolve(WalFormat.fileName(1) + ".tmp"), new byte[7]);
    try (WriteAheadLog wal = open(dir, NO_SYNCER)) {
      assertThat(Files.exists(dir.resolve(WalFormat.fileName(1) + ".tmp"))).isFalse();
      assertThat(wal.segments()).containsExactly(0L, 1L);
    }
  }

  @Test
  void refusesAppendsAfterCloseAndClosesOnce() {
    WriteAheadLog wal = open(tmp.resolve("wal"), NO_SYNCER);
    WalPointer p = wal.append(new byte[] {7});
    wal.close();
    wal.close();
    assertThatThrownBy(() -> wal.append(new byte[1]))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThat(wal.read(p)).containsExactly(7);
  }
}
