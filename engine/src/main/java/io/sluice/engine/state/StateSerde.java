package io.sluice.engine.state;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.state.internal.JsonStateSerde;

/**
 * Turns state keys or values into bytes and back, for the state store's delta and snapshot files.
 * {@code deserialize(serialize(x))} must equal {@code x} (by {@code equals}, for keys also by
 * {@code hashCode}), and bytes written by one version of the application must stay readable by the
 * next one for as long as its state is kept.
 *
 * <p>The default is {@link #typedJson()}: Jackson, so records and POJOs work without code.
 *
 * <p>Implementations must be thread-safe and stateless: one serde is shared by the stores of every
 * partition of a state operator, which run on different task threads at once. Both methods are
 * CPU-only and do not block.
 *
 * @param <T> the key or value type
 */
public interface StateSerde<T> {

  /**
   * The bytes of {@code value}; never called with null.
   *
   * @throws RuntimeException when the value cannot be serialized; the batch fails
   */
  byte[] serialize(T value);

  /**
   * The value whose {@link #serialize} gave {@code bytes}; never returns null.
   *
   * @throws RuntimeException when the bytes cannot be read (for example after an incompatible
   *     change of the class); recovery refuses the state with the file named
   */
  T deserialize(byte[] bytes);

  /**
   * JSON through Jackson that records the class of each value, nested ones included, so that no
   * type needs to be given: records, POJOs, boxed numbers, strings and collections of them come
   * back as they were. The default of {@code updateStateByKey} and {@code mapWithState}. Larger
   * than {@link #json(Class)} by the class names.
   */
  static <T> StateSerde<T> typedJson() {
    return io.sluice.engine.state.internal.TypedJsonStateSerde.instance();
  }

  /**
   * JSON through Jackson for a non-generic type: a record, a POJO with a default constructor and
   * setters or {@code @JsonCreator}, a {@code String}, a boxed number. Unknown properties are
   * ignored when reading, so removing a field from a state class keeps old state readable; Jackson
   * modules found on the class path (for example {@code jackson-datatype-jsr310} for {@code
   * java.time}) are registered.
   */
  static <T> StateSerde<T> json(Class<T> type) {
    return JsonStateSerde.of(JsonStateSerde.defaultMapper(), type);
  }

  /**
   * JSON through Jackson for a generic type, such as {@code new TypeReference<List<Click>>() {}};
   * otherwise as {@link #json(Class)}.
   */
  static <T> StateSerde<T> json(TypeReference<T> type) {
    return JsonStateSerde.of(JsonStateSerde.defaultMapper(), type);
  }

  /**
   * JSON through Jackson for a type built with a {@link
   * com.fasterxml.jackson.databind.type.TypeFactory}; otherwise as {@link #json(Class)}. The caller
   * vouches that {@code T} matches {@code type}.
   */
  static <T> StateSerde<T> json(JavaType type) {
    return JsonStateSerde.of(JsonStateSerde.defaultMapper(), type);
  }

  /**
   * JSON through the application's own {@code mapper} (its modules and features) for {@code type}.
   * The mapper must not be reconfigured afterwards.
   */
  static <T> StateSerde<T> json(ObjectMapper mapper, Class<T> type) {
    return JsonStateSerde.of(mapper, type);
  }

  /**
   * JSON through the application's own {@code mapper} for a generic type. The mapper must not be
   * reconfigured afterwards.
   */
  static <T> StateSerde<T> json(ObjectMapper mapper, TypeReference<T> type) {
    return JsonStateSerde.of(mapper, type);
  }
}
