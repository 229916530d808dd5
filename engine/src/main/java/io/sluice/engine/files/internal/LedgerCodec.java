package io.sluice.engine.files.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.engine.CheckpointException;
import io.sluice.engine.files.internal.FilePlan.FileEntry;
import io.sluice.engine.files.internal.LedgerEvent.Committed;
import io.sluice.engine.files.internal.LedgerEvent.Forgotten;
import io.sluice.engine.files.internal.LedgerEvent.Moved;
import io.sluice.engine.files.internal.LedgerEvent.Snapshot;
import io.sluice.engine.files.internal.LedgerEvent.Taken;
import io.sluice.engine.files.internal.LedgerEvent.TakenFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes {@link LedgerEvent}s as one JSON object per checksummed log record (the log's records
 * carry the checksums). Every object carries {@code "v"} (the format version, refused when newer)
 * and {@code "type"}:
 *
 * <pre>
 * {"v":1,"type":"taken","batch":12,"from":40,"files":[{"name":"a.csv","size":310,"modified":1700000000123}]}
 * {"v":1,"type":"moved","next":40}
 * {"v":1,"type":"committed","batch":12}
 * {"v":1,"type":"forgotten","names":["a.csv"]}
 * {"v":1,"type":"snapshot","next":41,"committed":12,
 *    "files":[{"name":"a.csv","batch":12,"seq":40,"size":310,"modified":1700000000123}]}
 * </pre>
 *
 * Stateless and thread-safe.
 */
final class LedgerCodec {

  /** The newest format this code reads, and the one it writes. */
  static final int FORMAT_VERSION = 1;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private LedgerCodec() {}

  /** Encodes {@code event} as its JSON bytes. */
  static byte[] encode(LedgerEvent event) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("v", FORMAT_VERSION);
    if (event instanceof Taken t) {
      n.put("type", "taken").put("batch", t.batchId()).put("from", t.from());
      ArrayNode files = n.putArray("files");
      for (FileEntry f : t.files()) {
        files
            .addObject()
            .put("name", f.name())
            .put("size", f.size())
            .put("modified", f.modifiedMillis());
      }
    } else if (event instanceof Moved m) {
      n.put("type", "moved").put("next", m.next());
    } else if (event instanceof Committed c) {
      n.put("type", "committed").put("batch", c.batchId());
    } else if (event instanceof Forgotten f) {
      n.put("type", "forgotten");
      ArrayNode names = n.putArray("names");
      f.names().forEach(names::add);
    } else if (event instanceof Snapshot s) {
      n.put("type", "snapshot").put("next", s.next()).put("committed", s.committed());
      ArrayNode files = n.putArray("files");
      for (TakenFile f : s.files()) {
        files
            .addObject()
            .put("name", f.name())
            .put("batch", f.batchId())
            .put("seq", f.seq())
            .put("size", f.size())
            .put("modified", f.modifiedMillis());
      }
    }
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode file ledger event " + event, e);
    }
  }

  /**
   * Decodes one record's bytes.
   *
   * @param where the record's place (file and byte offset), for messages
   * @throws CheckpointException when the record is not a ledger event or has a newer format
   */
  static LedgerEvent decode(byte[] bytes, String where) {
    JsonNode n;
    try {
      n = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw bad(where, "not JSON: " + e.getMessage());
    }
    int version = n.path("v").asInt(-1);
    if (version > FORMAT_VERSION) {
      throw new CheckpointException(
          "file ledger record at "
              + where
              + " has format version "
              + version
              + ", newer than the "
              + FORMAT_VERSION
              + " this Sluice reads; run a newer Sluice");
    }
    if (version < 1) {
      throw bad(where, "no valid format version");
    }
    String type = n.path("type").asText("");
    return switch (type) {
      case "taken" -> {
        List<FileEntry> files = new ArrayList<>();
        for (JsonNode f : array(n, "files", where)) {
          files.add(
              new FileEntry(
                  text(f, "name", where), number(f, "size", where), number(f, "modified", where)));
        }
        yield new Taken(number(n, "batch", where), number(n, "from", where), files);
      }
      case "moved" -> new Moved(number(n, "next", where));
      case "committed" -> new Committed(number(n, "batch", where));
      case "forgotten" -> {
        List<String> names = new ArrayList<>();
        for (JsonNode name : array(n, "names", where)) {
          if (!name.isTextual()) {
            throw bad(where, "a forgotten name is not a string");
          }
          names.add(name.asText());
        }
        yield new Forgotten(names);
      }
      case "snapshot" -> {
        List<TakenFile> files = new ArrayList<>();
        for (JsonNode f : array(n, "files", where)) {
          files.add(
              new TakenFile(
                  text(f, "name", where),
                  number(f, "batch", where),
                  number(f, "seq", where),
                  number(f, "size", where),
                  number(f, "modified", where)));
        }
        yield new Snapshot(number(n, "next", where), number(n, "committed", where), files);
      }
      default -> throw bad(where, "unknown type '" + type + "'");
    };
  }

  private static long number(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || !v.canConvertToLong()) {
      throw bad(where, "field '" + field + "' is missing or not a number");
    }
    return v.asLong();
  }

  private static String text(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw bad(where, "field '" + field + "' is missing or not a string");
    }
    return v.asText();
  }

  private static JsonNode array(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || !v.isArray()) {
      throw bad(where, "field '" + field + "' is missing or not an array");
    }
    return v;
  }

  private static CheckpointException bad(String where, String problem) {
    return new CheckpointException(
        "file ledger record at "
            + where
            + " is malformed ("
            + problem
            + "); its checksum held, so it was written so: remove the stream's ledger to start"
            + " over (every file in the directory is then read again)");
  }
}
