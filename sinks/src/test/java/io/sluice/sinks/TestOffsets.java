package io.sluice.sinks;

import io.sluice.engine.Batch;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StreamOffsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A Kafka-like input plan for tests: a group and its ranges. */
record TestOffsets(String group, List<OffsetRange> ranges) implements StreamOffsets {

  @Override
  public List<OffsetRange> offsetRanges() {
    return ranges;
  }

  /**
   * Batch {@code id} at time {@code id} seconds reading {@code [id*10, id*10+10)} of two partitions
   * of {@code topic}.
   */
  static Batch batch(long id, String group, String topic) {
    return new Batch(
        id,
        Instant.ofEpochSecond(1_700_000_000L + id),
        Map.of(
            "input",
            new TestOffsets(
                group,
                List.of(
                    new OffsetRange(topic, 0, id * 10, id * 10 + 10),
                    new OffsetRange(topic, 1, id * 5, id * 5 + 5)))));
  }
}
