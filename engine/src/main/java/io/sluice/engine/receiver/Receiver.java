package io.sluice.engine.receiver;

import io.sluice.engine.receiver.internal.ReceiverContext;
import io.sluice.engine.state.StateSerde;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A long-running source that pushes records into a stream ({@code ctx.receiverStream(receiver)}).
 * The engine runs each receiver on one of the context's task slots for the context's life: it calls
 * {@link #onStart()}, which starts the receiving (on threads of the receiver's own, and returns),
 * and {@link #onStop()} when the context stops or the receiver asks for a {@link #restart}.
 * Received records are handed over with {@code store}: single records are cut into blocks every
 * {@code blockInterval}; a list or iterator is stored as one block. Each batch reads the blocks
 * stored before it.
 *
 * <p>{@code store} blocks while the engine falls behind (a bounded queue of blocks) or while the
 * receiver's rate limit is reached: back-pressure reaches the source. Without a write-ahead log a
 * stored record is in memory only, and a crash loses what no batch has committed: at-least-once for
 * a source that can resend, at-most-once otherwise.
 *
 * <p>Threads: {@code store}, {@code restart}, {@code reportError}, {@code isStopped} may be called
 * from any of the receiver's threads; {@code onStart}/{@code onStop} are called by the engine, one
 * at a time.
 *
 * @param <T> record type
 */
public abstract class Receiver<T> {

  private volatile ReceiverContext<T> context;

  /** Creates the receiver; nothing runs before the context starts it. */
  protected Receiver() {}

  /**
   * Starts receiving: must return promptly, starting the receiver's own threads, which call {@code
   * store} and watch {@link #isStopped()}.
   */
  public abstract void onStart();

  /** Stops receiving and releases what {@link #onStart()} acquired; threads end soon after. */
  public abstract void onStop();

  /**
   * How the write-ahead log writes this receiver's records (with {@code
   * receiverWriteAheadLog(true)}); by default {@link StateSerde#typedJson()}. Override with a
   * compact serde for throughput; it must read back every record exactly as stored.
   */
  public StateSerde<T> serde() {
    return StateSerde.typedJson();
  }

  /** A short name for logs, thread names and errors; by default the class's simple name. */
  public String describe() {
    return getClass().getSimpleName();
  }

  /**
   * Stores one record; cut into a block with the records stored around it.
   *
   * @throws IllegalStateException when the receiver is stopped
   */
  public final void store(T record) {
    context().storeRecord(record);
  }

  /**
   * Stores the records as one block, returning once it is stored (durable, with a write-ahead log).
   */
  public final void store(List<T> records) {
    context().storeBlock(List.copyOf(records), Map.of());
  }

  /**
   * As {@link #store(List)}, recording {@code marks} with the block: small facts about where the
   * source stands once this block is stored (a Kafka receiver records the positions it reached,
   * keyed by topic-partition). With a write-ahead log the marks are durable with the block and kept
   * after it is processed, so a restarted receiver can resume its source from {@link
   * #storedMarks()} without receiving a stored record twice.
   */
  public final void store(List<T> records, Map<String, String> marks) {
    context().storeBlock(List.copyOf(records), Map.copyOf(marks));
  }

  /**
   * The latest value of each mark stored with this stream's blocks ({@link #store(List, Map)}):
   * with a write-ahead log, across restarts; otherwise those of this process. Empty when none.
   */
  public final Map<String, String> storedMarks() {
    return context().storedMarks();
  }

  /** As {@link #store(List)}, draining {@code records}. */
  public final void store(Iterator<T> records) {
    List<T> block = new java.util.ArrayList<>();
    records.forEachRemaining(block::add);
    context().storeBlock(block, Map.of());
  }

  /**
   * Asks the engine to restart the receiver: {@link #onStop()}, then after a back-off {@link
   * #onStart()} again. Returns at once.
   */
  public final void restart(String message) {
    context().restart(message, null);
  }

  /** As {@link #restart(String)}, with the error that caused it. */
  public final void restart(String message, Throwable error) {
    context().restart(message, error);
  }

  /** Reports an error without stopping: logged and counted. */
  public final void reportError(String message, Throwable error) {
    context().reportError(message, error);
  }

  /** Whether the receiver was stopped (or is being restarted): its threads should end. */
  public final boolean isStopped() {
    ReceiverContext<T> c = context;
    return c == null || c.isStopped();
  }

  private ReceiverContext<T> context() {
    ReceiverContext<T> c = context;
    if (c == null) {
      throw new IllegalStateException(
          "receiver " + describe() + " is not started: the context starts it at start()");
    }
    return c;
  }

  static {
    ReceiverContext.installAttacher(
        (java.util.function.BiConsumer<Receiver<Object>, ReceiverContext<Object>>)
            Receiver::attach);
  }

  private static <T> void attach(Receiver<T> receiver, ReceiverContext<T> c) {
    synchronized (receiver) {
      if (receiver.context != null) {
        throw new IllegalStateException(
            "receiver "
                + receiver.describe()
                + " is already attached to a stream (one stream per receiver)");
      }
      receiver.context = Objects.requireNonNull(c, "context");
    }
  }
}
