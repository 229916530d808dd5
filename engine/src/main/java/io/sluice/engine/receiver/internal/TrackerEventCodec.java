package io.sluice.engine.receiver.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.engine.CheckpointException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes tracker events as one JSON object per log record, every one with {@code "v"} (the format
 * version, refused when newer) and {@code "type"}:
 *
 * <pre>
 * {"v":1,"type":"blockAdded","block":{"stream":"s","id":7,"wal":[segment,offset,length],
 *    "records":1000,"metadata":{"orders-0":"4711"}}}            ("wal" is null without a log)
 * {"v":1,"type":"batchAllocated","batchId":12,"blocks":{"s":[7,8]}}
 * {"v":1,"type":"batchCleaned","upTo":10}
 * {"v":1,"type":"checkpoint","lastAllocated":12,"cleanedUpTo":10,"unallocated":[block...],
 *    "allocations":[{"batchId":11,"blocks":{"s":[block...]}}],"marks":{"s":{"orders-0":"4711"}}}
 * </pre>
 *
 * Version 2 added the checkpoint's {@code "marks"} (version 1 checkpoints read as having none).
 *
 * <p>The log's own records carry the checksums. Stateless and thread-safe.
 */
final class TrackerEventCodec {

  /** The newest event format this code reads, and the one it writes. */
  static final int FORMAT_VERSION = 2;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private TrackerEventCodec() {}

  static byte[] encode(TrackerEvent event) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("v", FORMAT_VERSION);
    if (event instanceof TrackerEvent.BlockAdded e) {
      n.put("type", "blockAdded");
      n.set("block", block(e.block()));
    } else if (event instanceof TrackerEvent.BatchAllocated e) {
      n.put("type", "batchAllocated");
      n.put("batchId", e.batchId());
      ObjectNode blocks = n.putObject("blocks");
      e.blockIds()
          .forEach(
              (s, ids) -> {
                ArrayNode list = blocks.putArray(s);
                ids.forEach(id -> list.add(id.longValue()));
              });
    } else if (event instanceof TrackerEvent.BatchCleaned e) {
      n.put("type", "batchCleaned");
      n.put("upTo", e.upToBatchId());
    } else if (event instanceof TrackerEvent.Checkpoint e) {
      n.put("type", "checkpoint");
      n.put("lastAllocated", e.lastAllocated());
      n.put("cleanedUpTo", e.cleanedUpTo());
      ArrayNode unallocated = n.putArray("unallocated");
      e.unallocated().forEach(b -> unallocated.add(block(b)));
      ArrayNode allocations = n.putArray("allocations");
      for (BatchAllocation a : e.allocations()) {
        ObjectNode an = allocations.addObject();
        an.put("batchId", a.batchId());
        ObjectNode blocks = an.putObject("blocks");
        a.blocks()
            .forEach(
                (s, list) -> {
                  ArrayNode arr = blocks.putArray(s);
                  list.forEach(b -> arr.add(block(b)));
                });
      }
      ObjectNode marks = n.putObject("marks");
      e.marks().forEach((s, m) -> m.forEach(marks.putObject(s)::put));
    }
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode tracker event " + event, e);
    }
  }

  /**
   * Decodes one event.
   *
   * @param where names the record in messages (file and offset)
   * @throws CheckpointException when the event is newer than this code or malformed
   */
  static TrackerEvent decode(byte[] bytes, String where) {
    JsonNode n;
    try {
      n = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw malformed(where, "not JSON: " + e.getMessage());
    }
    int version = n.path("v").asInt(-1);
    if (version > FORMAT_VERSION) {
      throw new CheckpointException(
          "received-block tracker log "
              + where
              + " holds an event of format version "
              + version
              + ", newer than version "
              + FORMAT_VERSION
              + ", the newest this Sluice reads; run the newer Sluice that wrote it");
    }
    if (version < 1) {
      throw malformed(where, "no valid format version");
    }
    try {
      return switch (n.path("type").asText()) {
        case "blockAdded" -> new TrackerEvent.BlockAdded(block(n.required("block")));
        case "batchAllocated" -> {
          Map<String, List<Long>> ids = new LinkedHashMap<>();
          n.required("blocks")
              .fields()
              .forEachRemaining(
                  f -> {
                    List<Long> list = new ArrayList<>();
                    f.getValue().forEach(id -> list.add(id.asLong()));
                    ids.put(f.getKey(), list);
                  });
          yield new TrackerEvent.BatchAllocated(n.required("batchId").asLong(), ids);
        }
        case "batchCleaned" -> new TrackerEvent.BatchCleaned(n.required("upTo").asLong());
        case "checkpoint" -> {
          List<ReceivedBlock> unallocated = new ArrayList<>();
          n.required("unallocated").forEach(b -> unallocated.add(block(b)));
          List<BatchAllocation> allocations = new ArrayList<>();
          for (JsonNode an : n.required("allocations")) {
            Map<String, List<ReceivedBlock>> blocks = new LinkedHashMap<>();
            an.required("blocks")
                .fields()
                .forEachRemaining(
                    f -> {
                      List<ReceivedBlock> list = new ArrayList<>();
                      f.getValue().forEach(b -> list.add(block(b)));
                      blocks.put(f.getKey(), list);
                    });
            allocations.add(new BatchAllocation(an.required("batchId").asLong(), blocks));
          }
          Map<String, Map<String, String>> marks = new LinkedHashMap<>();
          n.path("marks")
              .fields()
              .forEachRemaining(
                  f -> {
                    Map<String, String> m = new LinkedHashMap<>();
                    f.getValue()
                        .fields()
                        .forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
                    marks.put(f.getKey(), m);
                  });
          yield new TrackerEvent.Checkpoint(
              n.required("lastAllocated").asLong(),
              n.required("cleanedUpTo").asLong(),
              unallocated,
              allocations,
              marks);
        }
        default -> throw malformed(where, "unknown event type '" + n.path("type").asText() + "'");
      };
    } catch (IllegalArgumentException e) {
      throw malformed(where, e.getMessage());
    }
  }

  private static ObjectNode block(ReceivedBlock b) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("stream", b.stream());
    n.put("id", b.blockId());
    if (b.walPointer() == null) {
      n.putNull("wal");
    } else {
      WalPointer p = b.walPointer();
      n.putArray("wal").add(p.segment()).add(p.offset()).add(p.length());
    }
    n.put("records", b.numRecords());
    ObjectNode metadata = n.putObject("metadata");
    b.metadata().forEach(metadata::put);
    return n;
  }

  private static ReceivedBlock block(JsonNode n) {
    JsonNode wal = n.required("wal");
    WalPointer pointer =
        wal.isNull()
            ? null
            : new WalPointer(wal.get(0).asLong(), wal.get(1).asLong(), wal.get(2).asInt());
    Map<String, String> metadata = new LinkedHashMap<>();
    n.required("metadata")
        .fields()
        .forEachRemaining(f -> metadata.put(f.getKey(), f.getValue().asText()));
    return new ReceivedBlock(
        n.required("stream").asText(),
        n.required("id").asLong(),
        pointer,
        n.required("records").asLong(),
        metadata);
  }

  private static CheckpointException malformed(String where, String problem) {
    return new CheckpointException(
        "received-block tracker log " + where + " holds a malformed event: " + problem);
  }
}
