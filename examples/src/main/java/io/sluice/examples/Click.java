package io.sluice.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * One click as the {@code sessions} example writes it to Kafka, keyed by user: {@code
 * {"user":"u007","page":"/cart","timeMs":1767225600123}}.
 *
 * @param user the user who clicked (also the record key, so a user's clicks stay in order on one
 *     partition)
 * @param page the page clicked
 * @param timeMs when the user clicked, epoch milliseconds
 */
public record Click(String user, String page, long timeMs) {

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
          .build();

  /** Validates the fields. */
  public Click {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(page, "page");
  }

  /**
   * Parses one JSON click.
   *
   * @throws IllegalArgumentException when {@code json} is not a click
   */
  public static Click parse(String json) {
    try {
      Click c = JSON.readValue(json, Click.class);
      if (c == null) {
        throw new IllegalArgumentException("not a click: null");
      }
      return c;
    } catch (IOException | NullPointerException e) {
      throw new IllegalArgumentException("not a click: " + e.getMessage(), e);
    }
  }

  /** The click as JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
