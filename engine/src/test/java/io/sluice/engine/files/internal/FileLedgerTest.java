package io.sluice.engine.files.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.CheckpointException;
import io.sluice.engine.ManualClock;
import io.sluice.engine.files.internal.FilePlan.FileEntry;
import io.sluice.engine.receiver.internal.WalSettings;
import io.sluice.engine.receiver.internal.WriteAheadLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durable ledger of a directory stream: exact replay, its bound, refused logs. */
class FileLedgerTest {

  @TempDir Path dir;

  private final ManualClock clock = new ManualClock();

  @Test
  void staysBoundedWhenCommittedFilesLeaveAndReplaysTheSameStateAfterAReopen() {
    try (FileLedger ledger = FileLedger.open("s", dir, clock, 512)) {
      for (int b = 0; b < 200; b++) {
        String name = "file-" + b;
        ledger.take(b, List.of(new FileEntry(name, 10, 1000L + b)));
        ledger.committed(b);
        ledger.forgetAbsent(Set.of(name)); // the files before it were moved away
        assertThat(ledger.logSegments()).as("segments after batch %d", b).hasSizeLessThan(4);
      }
      assertThat(ledger.filesFrom(0))
          .extracting(LedgerEvent.TakenFile::name)
          .containsExactly("file-199");
    }
    try (FileLedger reopened = FileLedger.open("s", dir, clock, 512)) {
      assertThat(reopened.next()).isEqualTo(200);
      assertThat(reopened.committed()).isEqualTo(199);
      assertThat(reopened.filesFrom(0))
          .containsExactly(new LedgerEvent.TakenFile("file-199", 199, 199, 10, 1199));
      assertThat(reopened.logSegments()).hasSize(1);
    }
  }

  @Test
  void filesOfUncommittedBatchesAreNeverForgottenAndAMoveOffersThemAgain() {
    try (FileLedger ledger = FileLedger.open("s", dir, clock)) {
      ledger.take(0, List.of(new FileEntry("a", 1, 1)));
      ledger.take(1, List.of(new FileEntry("b", 1, 2), new FileEntry("c", 1, 3)));
      ledger.committed(0);
      assertThat(ledger.forgetAbsent(Set.of())).containsExactly("a");
      assertThat(ledger.holds("b")).isTrue();

      ledger.moveTo(2);
      assertThat(ledger.holds("b")).isTrue();
      assertThat(ledger.holds("c")).as("numbered 2: offered again").isFalse();
      assertThat(ledger.next()).isEqualTo(2);
      assertThatThrownBy(() -> ledger.take(2, List.of(new FileEntry("b", 1, 2))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("takes file 'b', which batch 1 took");
    }
    try (FileLedger reopened = FileLedger.open("s", dir, clock)) {
      assertThat(reopened.filesFrom(0))
          .extracting(LedgerEvent.TakenFile::name)
          .containsExactly("b");
      assertThat(reopened.next()).isEqualTo(2);
    }
  }

  @Test
  void aRecordOfANewerFormatIsRefused() {
    appendRaw("{\"v\":2,\"type\":\"moved\",\"next\":0}");
    assertThatThrownBy(() -> FileLedger.open("s", dir, clock))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("has format version 2, newer than the 1 this Sluice reads");
  }

  @Test
  void anInconsistentLogIsRefusedNamingItsDirectory() {
    appendRaw(
        "{\"v\":1,\"type\":\"taken\",\"batch\":0,\"from\":5,"
            + "\"files\":[{\"name\":\"a\",\"size\":1,\"modified\":1}]}");
    assertThatThrownBy(() -> FileLedger.open("s", dir, clock))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("file ledger " + dir)
        .hasMessageContaining("batch 0 takes files numbered from 5, but the next number is 0")
        .hasMessageContaining("remove the directory " + dir);
  }

  private void appendRaw(String json) {
    try (WriteAheadLog log = WriteAheadLog.open("raw", dir, WalSettings.defaults(), clock)) {
      log.appendAndSync(json.getBytes(StandardCharsets.UTF_8));
    }
  }
}
