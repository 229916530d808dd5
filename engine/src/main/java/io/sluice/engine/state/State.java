package io.sluice.engine.state;

import java.util.Optional;

/**
 * The state of one key, handed to a {@code mapWithState} function for one record (or for the key's
 * timeout). Changes take effect when the function returns and become durable with the batch: they
 * are committed exactly when the batch commits, and a replayed batch starts from the state before
 * it. Valid only during the call it is given to; one thread.
 *
 * @param <S> state type
 */
public interface State<S> {

  /** Whether the key has a state. */
  boolean exists();

  /**
   * The key's state.
   *
   * @throws java.util.NoSuchElementException when the key has none
   */
  S get();

  /** The key's state, or empty. */
  Optional<S> getOption();

  /**
   * Sets the key's state; it also restarts the key's idle timeout.
   *
   * @throws NullPointerException for null (use {@link #remove()})
   * @throws IllegalStateException when the key is timing out (its state is removed after the call)
   */
  void update(S newState);

  /**
   * Removes the key's state.
   *
   * @throws IllegalStateException when the key is timing out (it is removed anyway)
   */
  void remove();

  /**
   * Whether this call is the key's timeout: no record of the key arrived for the spec's timeout,
   * the call has no value, and the state is removed after it.
   */
  boolean isTimingOut();
}
