package io.sluice.kafka.receiver.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * The write-ahead log form of a received record keeps every byte and refuses what it can't read.
 */
class ReceivedRecordSerdeTest {

  private final ReceivedRecordSerde serde = ReceivedRecordSerde.instance();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void roundTripsEveryFieldExactly() {
    List<ReceivedRecord> records =
        List.of(
            new ReceivedRecord(
                "orders",
                3,
                1_234_567_890_123L,
                1_700_000_000_000L,
                TimestampType.CREATE_TIME,
                utf8("k"),
                new byte[] {0, -1, 127, -128},
                List.of(
                    new RecordHeader("trace", utf8("abc")),
                    new RecordHeader("trace", null),
                    new RecordHeader("é", new byte[0]))),
            new ReceivedRecord(
                "t", 0, 0, -1, TimestampType.NO_TIMESTAMP_TYPE, null, null, List.of()),
            new ReceivedRecord(
                "t", 0, 5, 42, TimestampType.LOG_APPEND_TIME, new byte[0], utf8("v"), List.of()));
    for (ReceivedRecord r : records) {
      ReceivedRecord back = serde.deserialize(serde.serialize(r));
      assertThat(back).isEqualTo(r).hasSameHashCodeAs(r);
    }
  }

  @Test
  void refusesAnotherFormatVersionAndMalformedBytes() {
    byte[] bytes =
        serde.serialize(
            new ReceivedRecord(
                "t", 0, 1, 2, TimestampType.CREATE_TIME, utf8("k"), utf8("v"), List.of()));
    byte[] newer = bytes.clone();
    newer[0] = 2;
    assertThatThrownBy(() -> serde.deserialize(newer))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("format version 2, this version of Sluice reads 1")
        .hasMessageContaining("written by a newer Sluice");
    assertThatThrownBy(() -> serde.deserialize(Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is malformed");
    assertThatThrownBy(() -> serde.deserialize(Arrays.copyOf(bytes, bytes.length + 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("1 bytes left after the record");
  }
}
