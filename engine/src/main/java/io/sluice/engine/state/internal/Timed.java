package io.sluice.engine.state.internal;

import io.sluice.engine.state.StateSerde;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A {@code mapWithState} key's stored state with the time of the batch that last updated it, from
 * which its timeout counts.
 *
 * @param state the state
 * @param updatedMs the batch time of the last update, epoch ms
 * @param <S> state type
 */
public record Timed<S>(S state, long updatedMs) {

  /** Validates the state. */
  public Timed {
    Objects.requireNonNull(state, "state");
  }

  /** Stores a {@code Timed} as 8 bytes of time followed by {@code states}' bytes of the state. */
  public static <S> StateSerde<Timed<S>> serde(StateSerde<S> states) {
    return new StateSerde<>() {
      @Override
      public byte[] serialize(Timed<S> value) {
        byte[] s = states.serialize(value.state());
        return ByteBuffer.allocate(Long.BYTES + s.length).putLong(value.updatedMs()).put(s).array();
      }

      @Override
      public Timed<S> deserialize(byte[] bytes) {
        if (bytes.length < Long.BYTES) {
          throw new IllegalArgumentException(
              "a timed state needs at least 8 bytes, found " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long updated = b.getLong();
        byte[] s = new byte[b.remaining()];
        b.get(s);
        return new Timed<>(states.deserialize(s), updated);
      }

      @Override
      public String toString() {
        return "Timed(" + states + ")";
      }
    };
  }
}
