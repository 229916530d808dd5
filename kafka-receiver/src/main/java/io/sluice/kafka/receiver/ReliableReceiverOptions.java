package io.sluice.kafka.receiver;

import io.sluice.offsets.OffsetStore;
import java.time.Duration;
import java.util.Optional;

/**
 * Immutable settings of a reliable Kafka receiver ({@link KafkaReceivers#reliable}), built with
 * {@link #builder()} and validated once in {@link Builder#build()}: where it commits the offsets of
 * the blocks it wrote ahead, and its consumer's timeouts.
 *
 * <pre>{@code
 * OffsetStore zk = OffsetStores.zookeeper("zk1:2181");       // the caller closes it
 * ReliableReceiverOptions.builder().offsetStore(zk).build();  // /consumers/<group>/offsets/...
 * ReliableReceiverOptions.defaults();                         // the Kafka group, commitSync
 * }</pre>
 */
public final class ReliableReceiverOptions {

  private final OffsetStore offsetStore;
  private final Duration pollTimeout;
  private final Duration closeTimeout;

  private ReliableReceiverOptions(Builder b) {
    this.offsetStore = b.offsetStore;
    this.pollTimeout = b.pollTimeout;
    this.closeTimeout = b.closeTimeout;
  }

  /** A builder with every setting at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The options with every setting at its default: offsets committed to the Kafka group. */
  public static ReliableReceiverOptions defaults() {
    return builder().build();
  }

  /**
   * The store the receiver commits to, under the consumer's {@code group.id}; empty to commit to
   * the Kafka consumer group itself.
   */
  public Optional<OffsetStore> offsetStore() {
    return Optional.ofNullable(offsetStore);
  }

  /** As {@link KafkaReceiverOptions#pollTimeout()}. */
  public Duration pollTimeout() {
    return pollTimeout;
  }

  /** As {@link KafkaReceiverOptions#closeTimeout()}. */
  public Duration closeTimeout() {
    return closeTimeout;
  }

  @Override
  public String toString() {
    return "ReliableReceiverOptions{offsetStore="
        + (offsetStore == null ? "kafka group" : offsetStore.describe())
        + ", pollTimeout="
        + pollTimeout
        + ", closeTimeout="
        + closeTimeout
        + "}";
  }

  /** Builds {@link ReliableReceiverOptions}; not thread-safe. */
  public static final class Builder {
    private OffsetStore offsetStore;
    private Duration pollTimeout = KafkaReceiverOptions.DEFAULT_POLL_TIMEOUT;
    private Duration closeTimeout = KafkaReceiverOptions.DEFAULT_CLOSE_TIMEOUT;

    private Builder() {}

    /**
     * Commits the offsets to {@code store} instead of the Kafka group: {@code
     * OffsetStores.zookeeper(connect)} keeps them where Kafka 0.8-era tools and Spark's reliable
     * receiver did, {@code /consumers/<group>/offsets/<topic>/<partition>}, and {@code sluice
     * offsets} reads them. Any store of the {@link OffsetStore} contract works except the Kafka
     * store on the cluster the receiver reads (its group is the receiver's own, committed by its
     * members). The caller owns the store and closes it after the context stopped.
     */
    public Builder offsetStore(OffsetStore store) {
      this.offsetStore = store;
      return this;
    }

    /** See {@link KafkaReceiverOptions#pollTimeout()}; at least 1 ms. */
    public Builder pollTimeout(Duration pollTimeout) {
      this.pollTimeout = pollTimeout;
      return this;
    }

    /** See {@link KafkaReceiverOptions.Builder#closeTimeout(Duration)}; at least 1 ms. */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = closeTimeout;
      return this;
    }

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException naming the bad setting and its value
     */
    public ReliableReceiverOptions build() {
      KafkaReceiverOptions.positive("pollTimeout", pollTimeout);
      KafkaReceiverOptions.positive("closeTimeout", closeTimeout);
      return new ReliableReceiverOptions(this);
    }
  }
}
