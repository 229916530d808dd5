package io.sluice.engine.receiver;

/**
 * Immutable settings of {@code ctx.socketTextStream(host, port, options)}, built with {@link
 * #builder()} and validated once in {@link Builder#build()}.
 *
 * <p>The receiver connects to the TCP server at {@code host:port} and reads UTF-8 lines (ended by
 * {@code \n}, {@code \r\n} or {@code \r}). When the connection fails or the server closes it, the
 * receiver reconnects after the engine's back-off. Each line read on a connection is stored once,
 * in the order received.
 *
 * <p><b>Acknowledged mode</b> ({@link Builder#acknowledged(boolean) acknowledged(true)}): the
 * receiver stores what it read as blocks ({@code Receiver.store(List)}) of at most {@link
 * #maxBlockLines()} lines, a block being cut at the latest one {@code blockInterval} (the context's
 * setting) after its first line arrived, and reads no further while a block is being stored. After
 * each block is stored (with {@code receiverWriteAheadLog(true)}: appended to the write-ahead log
 * and fsynced) the receiver writes back on the same connection one ASCII line
 *
 * <pre>{@code ACK <n>\n}</pre>
 *
 * <p>where {@code n} counts every line stored from this connection so far (cumulative, starting at
 * 0 on each new connection): the first {@code n} lines the sender wrote on this connection are
 * durable (with the write-ahead log; without it a stored block is in memory only, and acknowledged
 * lines are lost with the process). An acknowledgement is never written before its block is stored.
 * A sender that keeps its lines until they are acknowledged and, on every new connection, first
 * resends every line after the last acknowledged one gets its lines into the write-ahead log at
 * least once, across crashes of either side; with {@code exactlyOnce(true)} and an output that
 * commits the stream's progress (the JdbcSink with an offset store) each stored line then reaches
 * the output once. A line is stored twice only when it was durable but its acknowledgement was lost
 * (the receiving process died or the connection broke between the store and the ACK): the sender
 * resends it. A last line without a line end when the connection ends is dropped, not stored: the
 * sender resends it. The sender must read the acknowledgements: the receiver blocks writing them
 * otherwise.
 *
 * <p><b>Unacknowledged mode</b> (the default, and {@code ctx.socketTextStream(host, port)}): each
 * line is stored as a single record ({@code Receiver.store(T)}), cut into blocks by the engine
 * every {@code blockInterval}; no acknowledgements are written, and a last line without a line end
 * is stored when the connection ends. At-most-once: lines in flight or not yet stored when the
 * process dies are lost, since a socket cannot replay and the sender does not know what to resend.
 */
public final class SocketOptions {

  /** The default {@link Builder#maxBlockLines(int)}: 1,000 lines. */
  public static final int DEFAULT_MAX_BLOCK_LINES = 1_000;

  private final boolean acknowledged;
  private final int maxBlockLines;

  private SocketOptions(Builder b) {
    this.acknowledged = b.acknowledged;
    this.maxBlockLines = b.maxBlockLines;
  }

  /** A builder with every setting at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The options with every setting at its default: unacknowledged, at-most-once. */
  public static SocketOptions defaults() {
    return builder().build();
  }

  /** Whether the receiver acknowledges each stored block to the sender ({@code ACK <n>}). */
  public boolean acknowledged() {
    return acknowledged;
  }

  /** The most lines in one stored block, in the acknowledged mode. */
  public int maxBlockLines() {
    return maxBlockLines;
  }

  @Override
  public String toString() {
    return "SocketOptions[acknowledged=" + acknowledged + ", maxBlockLines=" + maxBlockLines + "]";
  }

  /** Builds {@link SocketOptions}; not thread-safe. */
  public static final class Builder {
    private boolean acknowledged;
    private int maxBlockLines = DEFAULT_MAX_BLOCK_LINES;

    private Builder() {}

    /**
     * Whether to write {@code ACK <n>} back after each stored block (default false); see {@link
     * SocketOptions}.
     */
    public Builder acknowledged(boolean acknowledged) {
      this.acknowledged = acknowledged;
      return this;
    }

    /**
     * The most lines in one block in the acknowledged mode (default {@link
     * SocketOptions#DEFAULT_MAX_BLOCK_LINES}): a block is cut when it holds this many, or one block
     * interval after its first line, whichever comes first.
     */
    public Builder maxBlockLines(int lines) {
      this.maxBlockLines = lines;
      return this;
    }

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException naming the invalid setting and its value
     */
    public SocketOptions build() {
      if (maxBlockLines < 1) {
        throw new IllegalArgumentException("maxBlockLines must be >= 1, was " + maxBlockLines);
      }
      return new SocketOptions(this);
    }
  }
}
