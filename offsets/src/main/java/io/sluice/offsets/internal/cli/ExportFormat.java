package io.sluice.offsets.internal.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.offsets.internal.CommitCodec;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;

/**
 * The JSON of {@code export} and {@code import}: {@code
 * {"format":"sluice-offsets","version":1,"group":..,"store":..,"exportedAt":..,"lastBatchId":..,
 * "offsets":[{"topic":..,"partition":..,"offset":..}]}}.
 */
final class ExportFormat {

  static final String FORMAT = "sluice-offsets";
  static final int VERSION = 1;

  private ExportFormat() {}

  static ObjectNode write(
      String group, String store, OptionalLong lastBatchId, Map<TopicPartition, Long> offsets) {
    ObjectNode root = CommitCodec.MAPPER.createObjectNode();
    root.put("format", FORMAT)
        .put("version", VERSION)
        .put("group", group)
        .put("store", store)
        .put("exportedAt", Instant.now().toString());
    if (lastBatchId.isPresent()) {
      root.put("lastBatchId", lastBatchId.getAsLong());
    }
    ArrayNode array = root.putArray("offsets");
    Positions.sorted(offsets)
        .forEach(
            (tp, o) ->
                array
                    .addObject()
                    .put("topic", tp.topic())
                    .put("partition", tp.partition())
                    .put("offset", o));
    return root;
  }

  /** The offsets of an export; {@code where} names the file in messages. */
  static Map<TopicPartition, Long> read(JsonNode root, String where) {
    if (!FORMAT.equals(root.path("format").asText())) {
      throw new CliException(
          where + " is not a Sluice offsets export (\"format\" must be \"" + FORMAT + "\")");
    }
    int version = root.path("version").asInt(-1);
    if (version > VERSION || version < 1) {
      throw new CliException(
          where + " has export version " + version + ", this Sluice reads version " + VERSION);
    }
    JsonNode offsets = root.path("offsets");
    if (!offsets.isArray()) {
      throw new CliException(where + " has no \"offsets\" array");
    }
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    int i = 0;
    for (JsonNode o : offsets) {
      JsonNode topic = o.get("topic");
      JsonNode partition = o.get("partition");
      JsonNode offset = o.get("offset");
      if (topic == null
          || !topic.isTextual()
          || topic.asText().isBlank()
          || partition == null
          || !partition.isInt()
          || partition.asInt() < 0
          || offset == null
          || !offset.canConvertToLong()
          || !offset.isIntegralNumber()
          || offset.asLong() < 0) {
        throw new CliException(
            where
                + ": offsets["
                + i
                + "] needs a topic, a partition >= 0 and an offset >= 0, was "
                + o);
      }
      TopicPartition tp = new TopicPartition(topic.asText(), partition.asInt());
      if (result.put(tp, offset.asLong()) != null) {
        throw new CliException(where + ": offsets[" + i + "] repeats " + tp);
      }
      i++;
    }
    return result;
  }
}
