package io.sluice.engine.internal.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.CheckpointException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLogTest {

  private final ObjectMapper mapper = new ObjectMapper();

  @TempDir Path dir;

  private PlannedBatch batch(long id) {
    JsonNode plan = mapper.createObjectNode().put("from", id * 10).put("until", id * 10 + 10);
    return new PlannedBatch(id, Instant.ofEpochMilli(1000 * id), Map.of("orders", plan));
  }

  @Test
  void uncommittedBatchesSurviveReopenWithTheirPlans() {
    BatchLog log = BatchLog.open(dir, mapper, true);
    log.appendPlanned(batch(0));
    log.appendCommitted(0, Instant.now());
    log.appendPlanned(batch(1));
    log.appendPlanned(batch(2));

    BatchLog reopened = BatchLog.open(dir, mapper, true);

    assertThat(reopened.lastCommitted()).isZero();
    assertThat(reopened.uncommitted()).extracting(PlannedBatch::batchId).containsExactly(1L, 2L);
    assertThat(reopened.nextBatchId()).isEqualTo(3);
    assertThat(reopened.uncommitted().get(0).plans().get("orders").path("until").asLong())
        .isEqualTo(20);
  }

  @Test
  void droppedBatchesNoLongerCountAsUncommittedAfterReopen() {
    BatchLog log = BatchLog.open(dir, mapper, true);
    log.appendPlanned(batch(0));
    log.appendCommitted(0, Instant.now());
    log.appendPlanned(batch(1));
    log.appendPlanned(batch(2));
    log.appendDropped(2, Instant.now());
    log.appendPlanned(batch(3));

    BatchLog reopened = BatchLog.open(dir, mapper, true);

    assertThat(reopened.lastCommitted()).isEqualTo(2);
    assertThat(reopened.uncommitted()).extracting(PlannedBatch::batchId).containsExactly(3L);
    assertThat(reopened.planned())
        .extracting(PlannedBatch::batchId)
        .containsExactly(0L, 1L, 2L, 3L);
  }

  @Test
  void tornLastEntryIsIgnoredAndCutBeforeTheNextAppend() throws IOException {
    BatchLog log = BatchLog.open(dir, mapper, true);
    log.appendPlanned(batch(0));
    log.appendPlanned(batch(1));
    Path file = dir.resolve(BatchLog.BATCHES);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 7));

    BatchLog reopened = BatchLog.open(dir, mapper, true);
    assertThat(reopened.planned()).extracting(PlannedBatch::batchId).containsExactly(0L);
    reopened.appendPlanned(batch(1));

    assertThat(BatchLog.open(dir, mapper, true).planned())
        .extracting(PlannedBatch::batchId)
        .containsExactly(0L, 1L);
  }

  @Test
  void flippedByteInTheLastEntryFailsItsChecksumAndIsIgnored() throws IOException {
    BatchLog log = BatchLog.open(dir, mapper, true);
    log.appendPlanned(batch(0));
    log.appendPlanned(batch(1));
    flipByte(dir.resolve(BatchLog.BATCHES), -5);

    assertThat(BatchLog.open(dir, mapper, true).planned())
        .extracting(PlannedBatch::batchId)
        .containsExactly(0L);
  }

  @Test
  void corruptionBeforeTheLastEntryIsRefusedWithTheFileAndLine() throws IOException {
    BatchLog log = BatchLog.open(dir, mapper, true);
    log.appendPlanned(batch(0));
    log.appendPlanned(batch(1));
    flipByte(dir.resolve(BatchLog.BATCHES), 20);

    assertThatThrownBy(() -> BatchLog.open(dir, mapper, true))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining(BatchLog.BATCHES)
        .hasMessageContaining("line 1");
  }

  @Test
  void newerFormatVersionIsRefused() throws IOException {
    String json =
        "{\"type\":\"committed\",\"batchId\":3,\"committedAt\":\"1970-01-01T00:00:00Z\",\"version\":2}";
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(json.getBytes(StandardCharsets.UTF_8));
    String line = java.util.HexFormat.of().toHexDigits((int) crc.getValue()) + " " + json + "\n";
    Files.writeString(dir.resolve(BatchLog.COMMITS), line);

    assertThatThrownBy(() -> BatchLog.open(dir, mapper, true))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("format version 2")
        .hasMessageContaining("run a newer Sluice");
  }

  @Test
  void cleanDropsOldCommittedBatchesButKeepsTheUncommittedAndTheLastPlanned() {
    BatchLog log = BatchLog.open(dir, mapper, true);
    for (long id = 0; id < 10; id++) {
      log.appendPlanned(batch(id));
      if (id < 8) {
        log.appendCommitted(id, Instant.now());
      }
    }

    log.clean(2);

    BatchLog reopened = BatchLog.open(dir, mapper, true);
    assertThat(reopened.planned())
        .extracting(PlannedBatch::batchId)
        .containsExactly(6L, 7L, 8L, 9L);
    assertThat(reopened.lastCommitted()).isEqualTo(7);
    assertThat(reopened.uncommitted()).extracting(PlannedBatch::batchId).containsExactly(8L, 9L);
    assertThat(reopened.nextBatchId()).isEqualTo(10);
  }

  @Test
  void entriesAreReadableJsonLines() throws IOException {
    BatchLog.open(dir, mapper, false).appendPlanned(batch(4));

    List<String> lines = Files.readAllLines(dir.resolve(BatchLog.BATCHES));
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).matches("[0-9a-f]{8} \\{.*\"batchId\":4.*\"version\":1}");
  }

  private static void flipByte(Path file, int position) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int index = position < 0 ? bytes.length + position : position;
    bytes[index] ^= 0x01;
    Files.write(file, bytes, StandardOpenOption.TRUNCATE_EXISTING);
  }
}
