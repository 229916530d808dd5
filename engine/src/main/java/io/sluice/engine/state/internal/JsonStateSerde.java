package io.sluice.engine.state.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.sluice.engine.state.StateSerde;
import java.io.IOException;
import java.util.Objects;

/**
 * {@link StateSerde} through Jackson. Holds a reader and a writer bound to one type, both immutable
 * and thread-safe, so serializing costs no type lookup.
 *
 * @param <T> the serialized type
 */
public final class JsonStateSerde<T> implements StateSerde<T> {

  private static final class DefaultMapper {
    // Lazily built: the module scan runs only when a default JSON serde is first asked for.
    static final ObjectMapper INSTANCE =
        JsonMapper.builder()
            .findAndAddModules()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
  }

  private final JavaType type;
  private final ObjectWriter writer;
  private final ObjectReader reader;

  private JsonStateSerde(ObjectMapper mapper, JavaType type) {
    this.type = type;
    this.writer = mapper.writerFor(type);
    this.reader = mapper.readerFor(type);
  }

  /** The mapper behind {@link StateSerde#json(Class)}: modules from the class path, lenient. */
  public static ObjectMapper defaultMapper() {
    return DefaultMapper.INSTANCE;
  }

  /** A serde for {@code type} through {@code mapper}. */
  public static <T> JsonStateSerde<T> of(ObjectMapper mapper, Class<T> type) {
    Objects.requireNonNull(type, "type");
    return new JsonStateSerde<>(mapper, mapper.constructType(type));
  }

  /** A serde for the generic {@code type} through {@code mapper}. */
  public static <T> JsonStateSerde<T> of(ObjectMapper mapper, TypeReference<T> type) {
    Objects.requireNonNull(type, "type");
    return new JsonStateSerde<>(mapper, mapper.constructType(type));
  }

  /** A serde for {@code type} through {@code mapper}; the caller vouches that it is a {@code T}. */
  public static <T> JsonStateSerde<T> of(ObjectMapper mapper, JavaType type) {
    Objects.requireNonNull(type, "type");
    return new JsonStateSerde<>(mapper, type);
  }

  @Override
  public byte[] serialize(T value) {
    try {
      return writer.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot serialize state of type " + type + " as JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public T deserialize(byte[] bytes) {
    try {
      T value = reader.readValue(bytes);
      if (value == null) {
        throw new IllegalArgumentException("state of type " + type + " was stored as JSON null");
      }
      return value;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read state of type "
              + type
              + " from "
              + bytes.length
              + " bytes of JSON: "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public String toString() {
    return "StateSerde.json(" + type + ")";
  }
}
