package io.sluice.engine.internal.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Map;

/**
 * A batch as the batch log holds it: id, scheduled time and each input's plan as JSON, keyed by the
 * input's stable name.
 *
 * @param batchId the batch id
 * @param time the batch time
 * @param plans input name to the plan's JSON
 */
public record PlannedBatch(long batchId, Instant time, Map<String, JsonNode> plans) {

  /** Copies the plans. */
  public PlannedBatch {
    plans = Map.copyOf(plans);
  }
}
