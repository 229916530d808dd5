package io.sluice.kafka.receiver;

import java.time.Duration;
import java.util.Objects;

/**
 * Immutable settings of a plain Kafka receiver ({@link KafkaReceivers#create(
 * io.sluice.engine.StreamingContext, java.util.Collection, java.util.Map, KafkaReceiverOptions)}),
 * built with {@link #builder()} and validated once in {@link Builder#build()}.
 */
public final class KafkaReceiverOptions {

  /** The default {@link Builder#pollTimeout(Duration)}: 500 ms. */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);

  /** The default {@link Builder#closeTimeout(Duration)}: 5 seconds. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final Duration pollTimeout;
  private final Duration closeTimeout;

  private KafkaReceiverOptions(Builder b) {
    this.pollTimeout = b.pollTimeout;
    this.closeTimeout = b.closeTimeout;
  }

  /** A builder with every setting at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The options with every setting at its default. */
  public static KafkaReceiverOptions defaults() {
    return builder().build();
  }

  /** How long one {@code poll} waits for records before the receiver looks at its state again. */
  public Duration pollTimeout() {
    return pollTimeout;
  }

  /**
   * How long closing the consumer (committing what is stored and leaving the group) may take when
   * the receiver stops or restarts.
   */
  public Duration closeTimeout() {
    return closeTimeout;
  }

  @Override
  public String toString() {
    return "KafkaReceiverOptions{pollTimeout="
        + pollTimeout
        + ", closeTimeout="
        + closeTimeout
        + "}";
  }

  static Duration positive(String name, Duration d) {
    Objects.requireNonNull(d, name + " must not be null");
    if (d.toMillis() <= 0) {
      throw new IllegalArgumentException(name + " must be at least 1 ms, was " + d);
    }
    return d;
  }

  /** Builds {@link KafkaReceiverOptions}; not thread-safe. */
  public static final class Builder {
    private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
    private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;

    private Builder() {}

    /** See {@link KafkaReceiverOptions#pollTimeout()}; at least 1 ms. */
    public Builder pollTimeout(Duration pollTimeout) {
      this.pollTimeout = pollTimeout;
      return this;
    }

    /**
     * See {@link KafkaReceiverOptions#closeTimeout()}; at least 1 ms. Keep it, plus the poll
     * timeout, under the engine's 10 s bound on stopping a receiver.
     */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = closeTimeout;
      return this;
    }

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException naming the bad setting and its value
     */
    public KafkaReceiverOptions build() {
      positive("pollTimeout", pollTimeout);
      positive("closeTimeout", closeTimeout);
      return new KafkaReceiverOptions(this);
    }
  }
}
