package io.sluice.kafka.direct;

import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StartingOffsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Immutable settings of one direct stream, built with {@link #builder()} and validated once in
 * {@link Builder#build()}. Changing a builder after {@code build()} does not reach a running
 * stream.
 */
public final class DirectStreamOptions {

  /** The default {@link Builder#pollTimeout(Duration)}: 10 seconds. */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofSeconds(10);

  /** The default {@link Builder#consumerIdleTimeout(Duration)}: 2 minutes. */
  public static final Duration DEFAULT_CONSUMER_IDLE_TIMEOUT = Duration.ofMinutes(2);

  /**
   * The first batches' total rate under backpressure when no {@link Builder#initialRate(long)} is
   * set, records/s.
   */
  public static final long DEFAULT_BACKPRESSURE_INITIAL_RATE = 10_000;

  private final String name;
  private final StartingOffsets startingOffsets;
  private final OffsetStore offsetStore;
  private final long maxRatePerPartition;
  private final long minRatePerPartition;
  private final long initialRate;
  private final Boolean backpressure;
  private final DataLossPolicy dataLossPolicy;
  private final ErrorPolicy errorPolicy;
  private final Duration pollTimeout;
  private final Duration consumerIdleTimeout;
  private final boolean groupMembership;
  private final int minPartitions;

  private DirectStreamOptions(Builder b) {
    this.name = b.name;
    this.startingOffsets = b.startingOffsets;
    this.offsetStore = b.offsetStore;
    this.maxRatePerPartition = b.maxRatePerPartition;
    this.minRatePerPartition = b.minRatePerPartition;
    this.initialRate = b.initialRate;
    this.backpressure = b.backpressure;
    this.dataLossPolicy = b.dataLossPolicy;
    this.errorPolicy = b.errorPolicy;
    this.pollTimeout = b.pollTimeout;
    this.consumerIdleTimeout = b.consumerIdleTimeout;
    this.groupMembership = b.groupMembership;
    this.minPartitions = b.minPartitions;
  }

  /** A builder with every setting at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The options with every setting at its default. */
  public static DirectStreamOptions defaults() {
    return builder().build();
  }

  /** The stable input name, or empty to derive {@code kafka-<group.id>}. */
  public Optional<String> name() {
    return Optional.ofNullable(name);
  }

  /**
   * Where the stream starts when it has no batch of its own to continue from, or empty for the
   * default: the committed offsets of the stream's group (in the {@link #offsetStore()} when set,
   * else in the Kafka consumer group), and the earliest offset for partitions without one (the
   * latest when {@code auto.offset.reset=latest}).
   */
  public Optional<StartingOffsets> startingOffsets() {
    return Optional.ofNullable(startingOffsets);
  }

  /**
   * The store committed at the end of every successful batch, or empty to commit to the Kafka
   * consumer group.
   */
  public Optional<OffsetStore> offsetStore() {
    return Optional.ofNullable(offsetStore);
  }

  /** The most records per second read from one partition, or empty for no limit. */
  public OptionalLong maxRatePerPartition() {
    return maxRatePerPartition > 0 ? OptionalLong.of(maxRatePerPartition) : OptionalLong.empty();
  }

  /**
   * The fewest records per second granted to a partition with lag under backpressure (at least one
   * per batch).
   */
  public long minRatePerPartition() {
    return minRatePerPartition;
  }

  /**
   * The total rate (records/s) of batches planned before the first backpressure update, or empty.
   */
  public OptionalLong initialRate() {
    return initialRate > 0 ? OptionalLong.of(initialRate) : OptionalLong.empty();
  }

  /**
   * Whether the stream follows the context's rate estimator: empty follows the context (updates are
   * applied when the context sends them), {@code false} ignores them.
   */
  public Optional<Boolean> backpressure() {
    return Optional.ofNullable(backpressure);
  }

  /** What happens when offsets to read were deleted or a partition disappeared. */
  public DataLossPolicy dataLossPolicy() {
    return dataLossPolicy;
  }

  /** What happens to a record that cannot be deserialized. */
  public ErrorPolicy onBadRecord() {
    return errorPolicy;
  }

  /**
   * How long a task may make no progress reading its range before it fails; also how long each of
   * the driver's metadata, offset and commit calls may block, and so how long the context's {@code
   * start()} waits for an unreachable cluster before it fails with a {@link StreamStartException}.
   */
  public Duration pollTimeout() {
    return pollTimeout;
  }

  /** How long a cached task consumer may stay unused before it is closed. */
  public Duration consumerIdleTimeout() {
    return consumerIdleTimeout;
  }

  /**
   * Whether the stream joins its consumer group as a member, so that several processes running the
   * same application share the group's partitions; see {@link Builder#groupMembership(boolean)}.
   */
  public boolean groupMembership() {
    return groupMembership;
  }

  /**
   * The least number of tasks a batch of this stream is read by, or 0 for one task per
   * topic-partition; see {@link Builder#minPartitions(int)}.
   */
  public int minPartitions() {
    return minPartitions;
  }

  @Override
  public String toString() {
    return "DirectStreamOptions[name="
        + name
        + ", startingOffsets="
        + startingOffsets
        + ", offsetStore="
        + (offsetStore == null ? null : offsetStore.describe())
        + ", maxRatePerPartition="
        + maxRatePerPartition
        + ", minRatePerPartition="
        + minRatePerPartition
        + ", initialRate="
        + initialRate
        + ", backpressure="
        + backpressure
        + ", dataLossPolicy="
        + dataLossPolicy
        + ", errorPolicy="
        + errorPolicy
        + ", pollTimeout="
        + pollTimeout
        + ", groupMembership="
        + groupMembership
        + ", minPartitions="
        + minPartitions
        + "]";
  }

  /** Collects settings; not thread-safe. Every setting is checked in {@link #build()}. */
  public static final class Builder {
    private String name;
    private StartingOffsets startingOffsets;
    private OffsetStore offsetStore;
    private long maxRatePerPartition;
    private boolean maxRateSet;
    private long minRatePerPartition;
    private long initialRate;
    private boolean initialRateSet;
    private Boolean backpressure;
    private DataLossPolicy dataLossPolicy = DataLossPolicy.FAIL;
    private ErrorPolicy errorPolicy = ErrorPolicy.fail();
    private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
    private Duration consumerIdleTimeout = DEFAULT_CONSUMER_IDLE_TIMEOUT;
    private boolean groupMembership;
    private int minPartitions;
    private boolean minPartitionsSet;

    private Builder() {}

    /** The stable input name the engine records plans under; default {@code kafka-<group.id>}. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /**
     * Where a stream without a batch of its own starts; see {@link
     * DirectStreamOptions#startingOffsets()}.
     */
    public Builder startingOffsets(StartingOffsets startingOffsets) {
      this.startingOffsets = startingOffsets;
      return this;
    }

    /** The offset store committed at the end of every successful batch. */
    public Builder offsetStore(OffsetStore offsetStore) {
      this.offsetStore = offsetStore;
      return this;
    }

    /**
     * Caps each partition to {@code recordsPerSecond} × batch interval offsets per batch; must be >
     * 0.
     */
    public Builder maxRatePerPartition(long recordsPerSecond) {
      this.maxRatePerPartition = recordsPerSecond;
      this.maxRateSet = true;
      return this;
    }

    /**
     * Under backpressure, the least rate each partition with lag gets; must be >= 0 and &lt;=
     * maxRatePerPartition.
     */
    public Builder minRatePerPartition(long recordsPerSecond) {
      this.minRatePerPartition = recordsPerSecond;
      return this;
    }

    /**
     * Bounds the first batch (and all batches before the first backpressure update) to this total
     * rate; must be > 0.
     */
    public Builder initialRate(long recordsPerSecond) {
      this.initialRate = recordsPerSecond;
      this.initialRateSet = true;
      return this;
    }

    /**
     * {@code true} follows the context's rate estimator; {@code false} ignores it. Default: follow
     * the context.
     */
    public Builder backpressure(boolean enabled) {
      this.backpressure = enabled;
      return this;
    }

    /** The data-loss policy; default {@link DataLossPolicy#FAIL}. */
    public Builder dataLossPolicy(DataLossPolicy policy) {
      this.dataLossPolicy = policy;
      return this;
    }

    /** The policy for records that cannot be deserialized; default {@link ErrorPolicy#fail()}. */
    public Builder onBadRecord(ErrorPolicy policy) {
      this.errorPolicy = policy;
      return this;
    }

    /**
     * How long a task, or a driver call, may make no progress before it fails; default 10 s, must
     * be > 0.
     */
    public Builder pollTimeout(Duration timeout) {
      this.pollTimeout = timeout;
      return this;
    }

    /** How long an unused cached consumer stays open; default 2 min, must be > 0. */
    public Builder consumerIdleTimeout(Duration timeout) {
      this.consumerIdleTimeout = timeout;
      return this;
    }

    /**
     * Group mode: the stream's driver joins its consumer group ({@code group.id}) as a member, and
     * plans batches only for the partitions the group coordinator assigns to it, so that several
     * processes running the same application share the topics' partitions. Assignment is
     * cooperative-sticky unless {@code partition.assignment.strategy} or {@code group.protocol}
     * says otherwise. A revoked partition is released at a batch boundary: the batches planned with
     * it finish and commit first (or the rebalance timeout, {@code max.poll.interval.ms}, runs
     * out); an assigned partition starts at the group's committed offset, or {@code
     * auto.offset.reset} where there is none. Progress lives in the consumer group: the stream
     * commits through its member, or an exactly-once Kafka sink commits with the member's
     * generation (KIP-447). With a {@link io.sluice.offsets.JdbcOffsetStore}, progress lives in the
     * store instead (the exactly-once JDBC sink commits it with the rows), fenced by offsets under
     * the group's row lock. The batch log is the process's own: on restart its planned batches are
     * not replayed, each assigned partition continues from its committed offset.
     *
     * <p>Requires a subscribing strategy ({@link ConsumerStrategies#subscribe} or {@link
     * ConsumerStrategies#subscribePattern}); refused with an offset store other than the JDBC one,
     * and with {@code startingOffsets} (which includes a bounded replay). Default: off.
     */
    public Builder groupMembership(boolean on) {
      this.groupMembership = on;
      return this;
    }

    /**
     * Reads each batch with at least {@code n} tasks (Spark's {@code minPartitions}): when a batch
     * has fewer non-empty ranges than {@code n}, its ranges are cut into contiguous pieces, each
     * range into a number of pieces proportional to its share of the batch's offsets, so that one
     * partition's backlog, or a batch of few partitions, keeps every task slot busy, and the slot
     * that finishes first at the end of a batch waits for a smaller piece. Each piece is one
     * partition of the batch's {@link KafkaRDD}: {@link KafkaRDD#offsetRanges()} lists the pieces,
     * in topic-partition and offset order. What the batch commits is unchanged: one range per
     * topic-partition, from the first piece's start to the last piece's end. A piece that starts
     * where no cached consumer stands costs a seek and a fetch. Refused with {@link
     * #groupMembership(boolean) group mode}, where keyed state lives per input partition. Default:
     * one task per topic-partition; must be >= 1.
     */
    public Builder minPartitions(int n) {
      this.minPartitions = n;
      this.minPartitionsSet = true;
      return this;
    }

    /**
     * Validates every setting and returns the immutable options.
     *
     * @throws IllegalArgumentException naming the first bad setting and its value
     */
    public DirectStreamOptions build() {
      if (name != null && name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      if (maxRateSet && maxRatePerPartition <= 0) {
        throw new IllegalArgumentException(
            "maxRatePerPartition must be > 0, was " + maxRatePerPartition);
      }
      if (minRatePerPartition < 0) {
        throw new IllegalArgumentException(
            "minRatePerPartition must be >= 0, was " + minRatePerPartition);
      }
      if (maxRateSet && minRatePerPartition > maxRatePerPartition) {
        throw new IllegalArgumentException(
            "minRatePerPartition must be <= maxRatePerPartition ("
                + maxRatePerPartition
                + "), was "
                + minRatePerPartition);
      }
      if (initialRateSet && initialRate <= 0) {
        throw new IllegalArgumentException("initialRate must be > 0, was " + initialRate);
      }
      Objects.requireNonNull(dataLossPolicy, "dataLossPolicy must not be null");
      Objects.requireNonNull(errorPolicy, "onBadRecord must not be null");
      checkPositive("pollTimeout", pollTimeout);
      checkPositive("consumerIdleTimeout", consumerIdleTimeout);
      if (groupMembership && offsetStore != null && !(offsetStore instanceof JdbcOffsetStore)) {
        throw new IllegalArgumentException(
            "groupMembership(true) keeps the stream's progress in its Kafka consumer group or in a"
                + " JDBC offset store; offsetStore "
                + offsetStore.describe()
                + " is not supported in group mode: use OffsetStores.jdbc(...) or none");
      }
      if (groupMembership && startingOffsets != null) {
        throw new IllegalArgumentException(
            "groupMembership(true): every assigned partition starts at the group's committed"
                + " offset (auto.offset.reset where there is none); startingOffsets ("
                + startingOffsets
                + ") cannot apply to partitions another process may own: reset the group with"
                + " `sluice offsets reset` instead");
      }
      if (minPartitionsSet && minPartitions < 1) {
        throw new IllegalArgumentException("minPartitions must be >= 1, was " + minPartitions);
      }
      if (groupMembership && minPartitions > 1) {
        throw new IllegalArgumentException(
            "groupMembership(true) keeps keyed state per input partition, one task each;"
                + " minPartitions ("
                + minPartitions
                + ") would read one partition with several tasks: drop one of the two");
      }
      return new DirectStreamOptions(this);
    }

    private static void checkPositive(String setting, Duration value) {
      if (value == null || value.isZero() || value.isNegative()) {
        throw new IllegalArgumentException(setting + " must be > 0, was " + value);
      }
    }
  }
}
