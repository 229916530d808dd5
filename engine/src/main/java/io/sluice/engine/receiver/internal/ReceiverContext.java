package io.sluice.engine.receiver.internal;

import io.sluice.engine.receiver.Receiver;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The engine's side of a running {@link Receiver}: what its {@code store}, {@code restart} and
 * {@code reportError} calls reach. Thread-safe.
 *
 * @param <T> record type
 */
public interface ReceiverContext<T> {

  /** Stores one record into the current block; blocks under back-pressure. */
  void storeRecord(T record);

  /** Stores a block with the source's marks; returns once both are stored. */
  void storeBlock(List<T> records, java.util.Map<String, String> marks);

  /** The latest value of each mark stored with the stream's blocks. */
  java.util.Map<String, String> storedMarks();

  /** Asks for a restart of the receiver. */
  void restart(String message, Throwable error);

  /** Reports an error without stopping. */
  void reportError(String message, Throwable error);

  /** Whether the receiver is stopped or restarting. */
  boolean isStopped();

  /** Attaches {@code context} to {@code receiver} (once per receiver). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static <T> void attach(Receiver<T> receiver, ReceiverContext<T> context) {
    try {
      Class.forName(Receiver.class.getName(), true, Receiver.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
    ((BiConsumer) Holder.attacher).accept(receiver, context);
  }

  /** Installed by {@link Receiver}'s static initializer. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static void installAttacher(BiConsumer<? extends Receiver<?>, ? extends ReceiverContext<?>> a) {
    Holder.attacher = (BiConsumer) a;
  }

  /** Holds the attacher. */
  final class Holder {
    private static volatile BiConsumer<Receiver<?>, ReceiverContext<?>> attacher;

    private Holder() {}
  }
}
