package io.sluice.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * One order as the generator writes it to Kafka: {@code
 * {"id":"o-42","product":"kiwi","cents":1250}}.
 *
 * @param id the order id, unique per generator run
 * @param product the product name
 * @param cents the amount in cents; zero or negative for voided orders, which the pipelines filter
 *     out
 */
public record Order(String id, String product, long cents) {

  // Strict: a missing field, a null amount or trailing garbage make the record a poison pill.
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();

  /** Validates the fields. */
  public Order {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(product, "product");
  }

  /**
   * Parses one JSON order strictly: every field present and of the right type, nothing else.
   *
   * @throws IllegalArgumentException when {@code json} is not a valid order
   */
  public static Order parse(byte[] json) {
    try {
      Order o = JSON.readValue(json, Order.class);
      if (o == null) {
        throw new IllegalArgumentException("not an order: null");
      }
      return o;
    } catch (IOException | NullPointerException e) {
      throw new IllegalArgumentException("not an order: " + e.getMessage(), e);
    }
  }

  /** The order as JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
