package io.sluice.engine.receiver.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.SequencePosition;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.internal.DStreamAccess;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.internal.ReceiverStatusSource;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.engine.receiver.Receiver;
import io.sluice.engine.status.ReceiverStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream of one {@link Receiver}: its receiver runs on a task slot from {@link #start()}; each
 * batch's plan is the list of blocks stored since the previous batch, and its RDD reads exactly
 * those blocks. Without a write-ahead log the blocks live in memory only: a restart cannot replay
 * an uncommitted batch (its blocks are gone) and says so.
 *
 * @param <T> record type
 */
public final class ReceiverInputDStream<T> extends InputDStream<T, BlockPlan>
    implements ReceiverStatusSource {

  private static final Logger LOG = LoggerFactory.getLogger(ReceiverInputDStream.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  private final Receiver<T> receiver;
  private volatile BlockSource<T> blocks;
  private final RateLimiter limiter;
  private final long maxRate;
  private final ReceiverStats stats;
  private volatile ReceiverSupervisor<T> supervisor;
  private volatile BatchOutput<?> committer;
  private volatile boolean launched;

  /** Registers the stream of {@code receiver} with {@code ctx}. */
  public ReceiverInputDStream(StreamingContext ctx, Receiver<T> receiver, String name) {
    super(ctx, name, BlockPlan.class);
    this.receiver = receiver;
    this.maxRate = ctx.receiverMaxRate();
    this.limiter = new RateLimiter(maxRate);
    this.stats = new ReceiverStats(ctx.clock());
  }

  @Override
  public ReceiverStatus receiverStatus() {
    return stats.snapshot(name(), receiver.describe());
  }

  /** Records in blocks no batch took yet; for tests and metrics. */
  public int unallocatedRecords() {
    BlockSource<T> b = blocks;
    return b == null ? 0 : b.unallocatedRecords();
  }

  /** Whether stored blocks are written ahead to a log (and survive a crash). */
  public boolean writesAhead() {
    return context().receiverWriteAheadLog() && context().checkpointDir().isPresent();
  }

  /** The running supervisor, or null before start. */
  public ReceiverSupervisor<T> supervisor() {
    return supervisor;
  }

  /**
   * Starts the receiver on a task slot of its own.
   *
   * @throws IllegalStateException when the slots cannot run every receiver plus one task
   */
  @Override
  public void start() {
    StreamingContext ctx = context();
    long receivers =
        EngineAccess.runtime(ctx).graph().inputs().stream()
            .filter(ReceiverInputDStream.class::isInstance)
            .count();
    if (ctx.parallelism() < receivers + 1) {
      throw new IllegalStateException(
          "context '"
              + ctx.appName()
              + "' has "
              + ctx.parallelism()
              + " task slots, but its "
              + receivers
              + " receiver(s) hold one each and batches need at least one more: set parallelism to at least "
              + (receivers + 1));
    }
    blocks =
        writesAhead()
            ? new WalBlocks<>(
                name(),
                ctx.checkpointDir()
                    .get()
                    .resolve("receivers")
                    .resolve(io.sluice.engine.state.internal.StateDirectories.encode(name())),
                ctx.clock(),
                receiver.serde())
            : new ReceivedBlocks<>(name());
    ReceiverSupervisor<T> s =
        new ReceiverSupervisor<>(
            receiver,
            name(),
            blocks,
            limiter,
            ctx.blockInterval(),
            Duration.ofMillis(200),
            Duration.ofSeconds(30),
            stats);
    stats.bindTo(ctx.meterRegistry(), ctx.appName(), name());
    supervisor = s;
  }

  /**
   * Starts the receiver on its slot, once the stream knows where its committed progress stands (so
   * the blocks it stores are numbered after it).
   */
  @Override
  public void resume(boolean replaying) {
    super.resume(replaying);
    ReceiverSupervisor<T> s = supervisor;
    launched = true;
    EngineAccess.runtime(context())
        .tasks()
        .startLongRunning("sluice-receiver-" + name() + "-0", s::run);
  }

  /** A stream with a write-ahead log has a progress worth committing: its block numbers. */
  @Override
  public boolean sequenced() {
    return writesAhead();
  }

  @Override
  public void committedBy(BatchOutput<?> output) {
    committer = output;
  }

  @Override
  public Recovered recover(List<Planned<BlockPlan>> planned, long checkpointLastCommitted) {
    BatchOutput<?> output = committer;
    if (output != null) {
      return recoverFrom(output, planned);
    }
    if (writesAhead()) {
      // The blocks of the uncommitted batches are in the write-ahead log: replay them.
      return super.recover(planned, checkpointLastCommitted);
    }
    long lost =
        planned.stream()
            .filter(p -> p.batchId() > checkpointLastCommitted)
            .mapToLong(p -> p.plan().records())
            .sum();
    if (lost > 0) {
      LOG.warn(
          "receiver stream {}: {} records of uncommitted batches were held in memory by the previous run"
              + " and are lost (no write-ahead log); their batches are not replayed",
          name(),
          lost);
    }
    return Recovered.nothingToReplay(OptionalLong.empty());
  }

  /**
   * The output that commits this stream's block numbers decides where it stands: a planned batch
   * above its committed batch is replayed only if it begins at the committed block number; others
   * are dropped with a WARN; new blocks are numbered after it.
   */
  private Recovered recoverFrom(BatchOutput<?> output, List<Planned<BlockPlan>> planned) {
    String sequence = BlockPlan.sequenceOf(name());
    Optional<SequencePosition> position = output.committedSequence(sequence);
    long after = position.map(SequencePosition::batchId).orElse(-1L);
    long next = position.map(SequencePosition::next).orElse(0L);
    OptionalLong committed = position.isPresent() ? OptionalLong.of(after) : OptionalLong.empty();
    String where = output.describe();
    List<Planned<BlockPlan>> candidates =
        planned.stream().filter(p -> p.batchId() > after).toList();
    if (position.isPresent()) {
      clean(after);
    }
    if (!candidates.isEmpty() && candidates.get(0).plan().from() == next) {
      LOG.info(
          "receiver stream {} replays planned batches {}..{}: the first begins at block {}, where {}"
              + " stands (batch {})",
          name(),
          candidates.get(0).batchId(),
          candidates.get(candidates.size() - 1).batchId(),
          next,
          where,
          after);
      // New blocks follow the replayed ones. The log remembers only blocks of uncommitted batches:
      // when the replayed batches hold none, it would number new blocks from 0.
      blocks.advanceTo(candidates.get(candidates.size() - 1).plan().until());
      return Recovered.replayFrom(candidates.get(0).batchId(), committed);
    }
    if (!candidates.isEmpty()) {
      LOG.warn(
          "receiver stream {}: the checkpoint's planned batches {}..{} begin at block {}, but {} stands at"
              + " block {} (batch {}): the checkpoint and the committed progress disagree (one was restored from"
              + " a copy); those batches are dropped and new blocks are numbered from {}",
          name(),
          candidates.get(0).batchId(),
          candidates.get(candidates.size() - 1).batchId(),
          candidates.get(0).plan().from(),
          where,
          next,
          after,
          next);
    }
    blocks.advanceTo(next);
    return Recovered.nothingToReplay(committed);
  }

  @Override
  public BlockPlan plan(long batchId, Instant batchTime) {
    return blocks.allocate(batchId);
  }

  @Override
  public RDD<T> compute(long batchId, Instant batchTime, BlockPlan plan) {
    return new BlockRDD<>(context(), plan.blockIds(), blocks);
  }

  @Override
  public long recordCount(BlockPlan plan) {
    return plan.records();
  }

  @Override
  public void commit(Batch batch, BlockPlan plan) {
    clean(batch.id());
  }

  @Override
  public void committedByOutput(Batch batch, BlockPlan plan) {
    clean(batch.id());
  }

  /**
   * Forgets the blocks of the batches that may go once {@code committed} committed: windows over
   * this stream read the blocks of the batches within their reach again (also after a restart), so
   * those stay.
   */
  private void clean(long committed) {
    long rememberMs = DStreamAccess.get().rememberDuration(this).toMillis();
    long intervalMs = context().batchInterval().toMillis();
    long upTo = committed - (rememberMs + intervalMs - 1) / intervalMs;
    if (upTo >= 0) {
      blocks.committed(upTo);
    }
  }

  /** The PID estimator's rate, capped by the configured maximum. */
  @Override
  public void onRateUpdate(long recordsPerSecond) {
    limiter.setRate(maxRate > 0 ? Math.min(maxRate, recordsPerSecond) : recordsPerSecond);
  }

  @Override
  public void stopReceiving() {
    ReceiverSupervisor<T> s = supervisor;
    if (s != null && launched) {
      s.stop(STOP_TIMEOUT);
    }
  }

  @Override
  public void stop() {
    stopReceiving();
    BlockSource<T> b = blocks;
    if (b != null) {
      b.close();
    }
  }

  /** One partition per block, reading the block's records from memory or the write-ahead log. */
  private static final class BlockRDD<T> extends RDD<T> {
    private final List<String> blockIds;
    private final BlockSource<T> blocks;

    BlockRDD(StreamingContext ctx, List<String> blockIds, BlockSource<T> blocks) {
      super(ctx);
      this.blockIds = blockIds;
      this.blocks = blocks;
    }

    @Override
    public int numPartitions() {
      return blockIds.size();
    }

    @Override
    public Iterator<T> compute(int partition, TaskContext ctx) {
      return blocks.read(blockIds.get(partition)).iterator();
    }
  }
}
