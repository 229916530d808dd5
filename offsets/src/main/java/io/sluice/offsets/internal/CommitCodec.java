package io.sluice.offsets.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one JSON shape of a {@link BatchCommit} that every store persists, with a format version so
 * that a reader refuses what a newer Sluice wrote. Thread-safe.
 */
public final class CommitCodec {

  /** The format version this code writes and the highest it reads. */
  public static final int FORMAT_VERSION = 1;

  /** Shared mapper; ObjectMapper is thread-safe once configured. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private static final Pattern KAFKA_METADATA =
      Pattern.compile("^sluice:v(\\d+):batch=(\\d+);time=([^;]*)$");

  private CommitCodec() {}

  /** The JSON object of a commit. */
  public static ObjectNode toJson(BatchCommit commit) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("v", FORMAT_VERSION);
    node.put("group", commit.group());
    node.put("batchId", commit.batchId());
    node.put("time", commit.batchTime().toString());
    ArrayNode ranges = node.putArray("ranges");
    for (OffsetRange r : commit.ranges()) {
      ranges
          .addObject()
          .put("topic", r.topic())
          .put("partition", r.partition())
          .put("from", r.fromOffset())
          .put("until", r.untilOffset());
    }
    return node;
  }

  /** The compact UTF-8 JSON bytes of a commit. */
  public static byte[] toBytes(BatchCommit commit) {
    try {
      return MAPPER.writeValueAsBytes(toJson(commit));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + commit, e);
    }
  }

  /** The compact JSON text of a commit. */
  public static String toText(BatchCommit commit) {
    return new String(toBytes(commit), StandardCharsets.UTF_8);
  }

  /**
   * Parses a commit written by {@link #toJson}.
   *
   * @param where names the source in error messages, e.g. a file and offset
   * @throws IllegalArgumentException for a malformed payload or a newer format version
   */
  public static BatchCommit fromJson(JsonNode node, String where) {
    int version = node.path("v").asInt(-1);
    if (version > FORMAT_VERSION) {
      throw new UnsupportedFormatException(
          where
              + " holds offsets format version "
              + version
              + ", this Sluice reads up to version "
              + FORMAT_VERSION
              + ": upgrade Sluice to read it");
    }
    if (version < 1) {
      throw new IllegalArgumentException(where + " holds no offsets format version field 'v'");
    }
    try {
      List<OffsetRange> ranges = new ArrayList<>();
      for (JsonNode r : required(node, "ranges", where)) {
        ranges.add(
            new OffsetRange(
                required(r, "topic", where).asText(),
                required(r, "partition", where).asInt(),
                required(r, "from", where).asLong(),
                required(r, "until", where).asLong()));
      }
      return new BatchCommit(
          required(node, "group", where).asText(),
          required(node, "batchId", where).asLong(),
          Instant.parse(required(node, "time", where).asText()),
          ranges);
    } catch (RuntimeException e) {
      if (e instanceof UnsupportedFormatException) {
        throw e;
      }
      throw new IllegalArgumentException(
          where + " holds a malformed batch commit: " + e.getMessage(), e);
    }
  }

  /** Parses commit bytes written by {@link #toBytes}. */
  public static BatchCommit fromBytes(byte[] bytes, String where) {
    try {
      return fromJson(MAPPER.readTree(bytes), where);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + " holds malformed JSON: " + e.getMessage(), e);
    }
  }

  /** Parses commit text written by {@link #toText}. */
  public static BatchCommit fromText(String text, String where) {
    return fromBytes(text.getBytes(StandardCharsets.UTF_8), where);
  }

  private static JsonNode required(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new IllegalArgumentException(where + ": field '" + field + "' is missing");
    }
    return value;
  }

  /** The Kafka commit metadata of a batch: {@code sluice:v1:batch=<id>;time=<ISO instant>}. */
  public static String kafkaMetadata(long batchId, Instant batchTime) {
    return "sluice:v" + FORMAT_VERSION + ":batch=" + batchId + ";time=" + batchTime;
  }

  /** The batch id in Kafka commit metadata written by Sluice, or empty for anything else. */
  public static OptionalLong batchIdOfKafkaMetadata(String metadata) {
    if (metadata == null) {
      return OptionalLong.empty();
    }
    Matcher m = KAFKA_METADATA.matcher(metadata);
    if (!m.matches()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(m.group(2)));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** A payload written by a newer Sluice than this one. */
  public static final class UnsupportedFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public UnsupportedFormatException(String message) {
      super(message);
    }
  }
}
