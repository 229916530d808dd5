package io.sluice.engine.state.internal;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.BasicPolymorphicTypeValidator;
import io.sluice.engine.state.StateSerde;
import java.io.IOException;

/**
 * {@link StateSerde#typedJson()}: JSON that records the class of every value it holds, nested ones
 * included, as {@code ["com.example.Session", {...}]}, so a state operator needs no type from the
 * application (Java erases it) and a {@code Long} comes back a {@code Long}, a {@code List<Click>}
 * a list of clicks. Only state files this application wrote are read with it. Thread-safe.
 */
public final class TypedJsonStateSerde implements StateSerde<Object> {

  private static final TypedJsonStateSerde INSTANCE = new TypedJsonStateSerde();

  @SuppressWarnings(
      "deprecation") // EVERYTHING: final types too, so a Long is not read as an Integer
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .findAndAddModules()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .activateDefaultTyping(
              BasicPolymorphicTypeValidator.builder().allowIfSubType(Object.class).build(),
              ObjectMapper.DefaultTyping.EVERYTHING,
              JsonTypeInfo.As.WRAPPER_ARRAY)
          .build();

  private TypedJsonStateSerde() {}

  /** The serde, as any type. */
  @SuppressWarnings("unchecked")
  public static <T> StateSerde<T> instance() {
    return (StateSerde<T>) INSTANCE;
  }

  @Override
  public byte[] serialize(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot serialize state of " + value.getClass().getName() + " as JSON: " + e.getMessage(),
          e);
    }
  }

  @Override
  public Object deserialize(byte[] bytes) {
    try {
      Object value = MAPPER.readValue(bytes, Object.class);
      if (value == null) {
        throw new IllegalArgumentException("state was stored as JSON null");
      }
      return value;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read state from " + bytes.length + " bytes of typed JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "StateSerde.typedJson()";
  }
}
