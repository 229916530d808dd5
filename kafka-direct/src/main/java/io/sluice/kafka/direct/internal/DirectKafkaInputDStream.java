package io.sluice.kafka.direct.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.kafka.direct.CanCommitOffsets;
import io.sluice.kafka.direct.ConsumerStrategy;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.DeadLetterTransaction;
import io.sluice.offsets.GroupMemberCommits;
import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka direct stream: every batch pins one offset range per partition (planned by {@link
 * DirectPlanner} on the driver) into a {@link KafkaRDDImpl}; after the batch's outputs succeeded,
 * commits the ranges to the offset store, or to the Kafka consumer group when there is no store.
 * Thread contract as in {@link InputDStream}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class DirectKafkaInputDStream<K, V>
    extends InputDStream<ConsumerRecord<K, V>, KafkaBatchPlan> implements CanCommitOffsets {

  private static final Logger log = LoggerFactory.getLogger(DirectKafkaInputDStream.class);
  private static final Comparator<TopicPartition> TP_ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  private final ConsumerStrategy<K, V> strategy;
  private final DirectStreamOptions options;
  private final String group;
  private final KafkaMetrics metrics;
  private final ReadSupport support;
  private final ConcurrentLinkedQueue<OffsetRange> commitQueue = new ConcurrentLinkedQueue<>();
  private GroupCommitter committer;
  private DirectPlanner planner;
  private volatile boolean exhausted;
  private volatile String lastCommitMetadata = "";
  private final CommitTarget target;
  private Planned<KafkaBatchPlan> newestPlanned;
  private Map<TopicPartition, Long> startPosition;
  private CommittedPosition committedAtStart;
  // The group's committed position, read in the background from start() until recover() takes it.
  private volatile FutureTask<CommittedPosition> committedRead;
  private final java.util.concurrent.ConcurrentSkipListMap<Long, KafkaBatchPlan>
      plansAwaitingLetters = new java.util.concurrent.ConcurrentSkipListMap<>();
  private volatile boolean stopped;
  // Group mode: the stream's member of its consumer group, and the last batch committed (a
  // revocation waits for the batches planned with the partitions to commit).
  private volatile GroupMember member;
  private String memberKey;
  private volatile long committedThrough = -1;
  // Group mode: the partitions this member owns, those being released included (their batches may
  // still commit), kept by the member's rebalance callbacks.
  private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();

  /** Registers the stream with {@code ctx}; connects to nothing before the first plan. */
  public DirectKafkaInputDStream(
      StreamingContext ctx, ConsumerStrategy<K, V> strategy, DirectStreamOptions options) {
    super(
        ctx,
        options.name().orElseGet(() -> "kafka-" + requireGroup(strategy)),
        KafkaBatchPlan.class);
    this.strategy = strategy;
    this.options = options;
    this.group = requireGroup(strategy);
    if (options.groupMembership() && !strategy.selectsWholeTopics()) {
      throw new IllegalArgumentException(
          "groupMembership(true) needs a strategy that subscribes to topics (subscribe or"
              + " subscribePattern), so that the consumer group can share their partitions; "
              + strategy.describe()
              + " assigns fixed partitions");
    }
    this.metrics = new KafkaMetrics(ctx.meterRegistry(), name());
    Map<String, Object> params = strategy.kafkaParams();
    boolean deserializes = KafkaParams.consumerCanDeserialize(params, options.onBadRecord());
    Map<String, Object> consumerConfig = KafkaParams.taskConsumer(params, deserializes);
    ConsumerCache cache =
        new ConsumerCache(
            () -> new KafkaConsumer<>(consumerConfig),
            options.dataLossPolicy(),
            options.consumerIdleTimeout(),
            Math.max(1, options.minPartitions()));
    DeadLetterSender dlq =
        options.onBadRecord() instanceof ErrorPolicy.DeadLetter d
            ? new DeadLetterSender(
                d.topic(), KafkaParams.deadLetterProducer(params, d.producerConfig()))
            : null;
    this.target =
        options
            .offsetStore()
            .map(store -> new CommitTarget(store.location(), "offset store " + store.describe()))
            .orElseGet(
                () -> {
                  Object servers = params.get("bootstrap.servers");
                  return new CommitTarget(
                      KafkaGroupOffsets.clusterKey(servers),
                      "the consumer groups of the Kafka cluster at " + servers);
                });
    this.support =
        new ReadSupport(
            params,
            cache,
            deserializes,
            options.onBadRecord(),
            dlq,
            options.pollTimeout(),
            metrics);
  }

  private static String requireGroup(ConsumerStrategy<?, ?> strategy) {
    String g = KafkaParams.group(strategy.kafkaParams());
    if (g == null) {
      throw new IllegalArgumentException(
          "kafkaParams must set group.id (the stream's consumer group and offset store"
              + " key) for "
              + strategy.describe());
    }
    return g;
  }

  private synchronized DirectPlanner planner() {
    if (planner == null) {
      planner = DirectPlanner.open(name(), strategy, options, metrics, context().batchInterval());
    }
    return planner;
  }

  @Override
  public void start() {
    if (!options.groupMembership() && options.offsetStore().isEmpty()) {
      // recover(), right after every input started, needs the group's committed offsets: read them
      // meanwhile (an admin client's start and the group coordinator's lookup, 20 ms warm and
      // 0.2 s in a fresh JVM). With an offset store the read waits for the claim below.
      committedRead = new FutureTask<>(this::readCommitted);
      Thread read = new Thread(committedRead, "sluice-" + name() + "-committed-read");
      read.setDaemon(true);
      read.start();
    }
    // Fail start within the poll timeout, naming the cause, rather than let the first batches block
    // for minutes.
    planner().checkCluster();
    if (support.deadLetters() != null) {
      support.deadLetters().checkTopic(options.pollTimeout());
    }
    // Before any read of the group: fence a previous run's committer and abort what it left open.
    options.offsetStore().ifPresent(store -> store.claim(group));
    DirectPlanner p = planner();
    if (options.groupMembership()) {
      Map<String, Object> config = KafkaParams.memberConsumer(strategy.kafkaParams());
      GroupMember m =
          new GroupMember(
              name(), group, () -> new KafkaConsumer<>(config), p.selectedTopics(), new Release());
      p.planFor(m);
      member = m;
    }
  }

  /**
   * Group mode: what the member's rebalances do to the stream. An assigned partition starts at the
   * next plan; a revoked one is planned no more, and the member waits (running its commits) until
   * every batch planned with it has committed, at most 80 % of the rebalance timeout.
   */
  private final class Release implements GroupMember.Listener {

    @Override
    public void assigned(Collection<TopicPartition> partitions) {
      owned.addAll(partitions);
      planner().assigned(partitions);
    }

    @Override
    public void revoked(Collection<TopicPartition> partitions) {
      try {
        release(partitions);
      } finally {
        owned.removeAll(partitions);
      }
    }

    private void release(Collection<TopicPartition> partitions) {
      long last = planner().release(partitions);
      GroupMember m = member;
      if (m == null || stopped || last <= committedThrough) {
        return;
      }
      Duration max =
          KafkaParams.rebalanceTimeout(strategy.kafkaParams()).multipliedBy(4).dividedBy(5);
      long started = System.nanoTime();
      if (m.serveUntil(() -> committedThrough >= last || stopped, max)) {
        log.info(
            "stream {}: released {} once batch {} committed ({} ms)",
            name(),
            partitions,
            last,
            (System.nanoTime() - started) / 1_000_000);
      } else if (!stopped) {
        log.warn(
            "stream {}: batch {} (planned with {}) did not commit within {}; releasing them anyway:"
                + " a later commit of it is refused by the group's generation and offset fences",
            name(),
            last,
            partitions,
            max);
      }
    }

    @Override
    public void lost(Collection<TopicPartition> partitions) {
      owned.removeAll(partitions);
      planner().release(partitions);
    }
  }

  private void markCommitted(long batchId) {
    if (batchId > committedThrough) {
      committedThrough = batchId;
    }
  }

  /**
   * Group mode: identifies this process among the group's members, stable across its restarts:
   * {@code group.instance.id} when set, else an id kept in the checkpoint directory, else one for
   * this run.
   */
  private synchronized String memberKey() {
    if (memberKey == null) {
      memberKey = MemberKeys.of(strategy.kafkaParams(), context().checkpointDir(), name());
    }
    return memberKey;
  }

  /**
   * The member's metadata for committing {@code partitions}; refuses partitions this member no
   * longer owns (lost when its session ended: another member continues them from the committed
   * offset).
   */
  private ConsumerGroupMetadata memberMetadata(Collection<TopicPartition> partitions) {
    GroupMember m = member;
    if (m == null) {
      throw new IllegalStateException(
          "stream " + name() + " has not joined consumer group '" + group + "' yet");
    }
    List<TopicPartition> gone = partitions.stream().filter(tp -> !owned.contains(tp)).toList();
    if (!gone.isEmpty()) {
      throw new IllegalStateException(
          "stream "
              + name()
              + ": partitions "
              + gone
              + " are no longer this member's (lost when its session with the group coordinator"
              + " ended); their batch cannot commit them, another member continues from the"
              + " committed offsets");
    }
    return m.metadata();
  }

  @Override
  public boolean sharesPartitions() {
    return options.groupMembership();
  }

  @Override
  public Optional<CommitTarget> offsetCommitTarget() {
    return Optional.of(target);
  }

  /** The committed position, read by {@link #start} in the background when it could. */
  private CommittedPosition committedPosition() {
    FutureTask<CommittedPosition> read = committedRead;
    committedRead = null;
    if (read == null) {
      return readCommitted();
    }
    try {
      return read.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException(
          "stream "
              + name()
              + ": interrupted while reading the committed offsets of group '"
              + group
              + "'",
          e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new KafkaException(e.getCause());
    }
  }

  private CommittedPosition readCommitted() {
    Optional<OffsetStore> store = options.offsetStore();
    return store.isPresent()
        ? CommittedPosition.of(store.get(), group)
        : CommittedPosition.ofGroup(strategy.kafkaParams(), group, options.pollTimeout());
  }

  /**
   * The committed position decides: the planned batches above the committed batch id are replayed
   * only if the first of them begins exactly where the group stands; otherwise the stream continues
   * from the committed position and the plans are dropped. On a fresh checkpoint (no plan and no
   * commit in it) the starting offsets apply, and a start that differs from the committed position
   * is recorded as a reset of the group first, so that the stream's first commit is not refused.
   */
  @Override
  public Recovered recover(List<Planned<KafkaBatchPlan>> planned, long checkpointLastCommitted) {
    if (options.groupMembership()) {
      // The batch log is this process's own, and its partitions may have moved since: each
      // partition assigned continues from the group's committed offset.
      if (!planned.isEmpty()) {
        log.info(
            "stream {} (group mode): planned batches {}..{} of this process's batch log are not"
                + " replayed; every partition assigned continues from consumer group '{}'",
            name(),
            planned.get(0).batchId(),
            planned.get(planned.size() - 1).batchId(),
            group);
      }
      return Recovered.nothingToReplay(OptionalLong.empty());
    }
    CommittedPosition committed = committedPosition();
    committedAtStart = committed;
    newestPlanned = planned.isEmpty() ? null : planned.get(planned.size() - 1);
    if (newestPlanned == null && checkpointLastCommitted < 0) {
      return startFresh(committed);
    }
    startPosition = null;
    if (newestPlanned == null) {
      log.warn(
          "stream {}: the checkpoint holds commits up to batch {} but no plan (its batch log was lost); the"
              + " stream continues from {}, which holds batch {}",
          name(),
          checkpointLastCommitted,
          where(),
          describe(committed.batchId()));
      return Recovered.nothingToReplay(committed.batchId());
    }
    long after = committed.batchId().orElse(-1L);
    List<Planned<KafkaBatchPlan>> candidates =
        planned.stream().filter(p -> p.batchId() > after).toList();
    if (!candidates.isEmpty() && committed.startsAt(candidates.get(0).plan())) {
      log.info(
          "stream {} replays planned batches {}..{}: the first begins where {} stands (batch {})",
          name(),
          candidates.get(0).batchId(),
          newestPlanned.batchId(),
          where(),
          committed.batchId());
      return Recovered.replayFrom(candidates.get(0).batchId(), committed.batchId());
    }
    if (!candidates.isEmpty()) {
      log.warn(
          "stream {}: the checkpoint's planned batches {}..{} begin at {}, but {} holds batch {} at {}:"
              + " a reset or another driver moved the group since they were planned; they are dropped and the"
              + " stream continues from {}",
          name(),
          candidates.get(0).batchId(),
          newestPlanned.batchId(),
          froms(candidates.get(0).plan()),
          where(),
          describe(committed.batchId()),
          committed.offsets(),
          where());
    } else if (!committed.endsAt(newestPlanned.plan().ranges())) {
      log.warn(
          "stream {}: the checkpoint ends at batch {} at {}, but {} holds batch {} at {}: the checkpoint is"
              + " behind or ahead of the committed progress (restored from a copy, or its newest entries were lost);"
              + " the stream continues from {}",
          name(),
          newestPlanned.batchId(),
          untils(newestPlanned.plan().ranges()),
          where(),
          describe(committed.batchId()),
          committed.offsets(),
          where());
    }
    return Recovered.nothingToReplay(committed.batchId());
  }

  private Recovered startFresh(CommittedPosition committed) {
    Map<TopicPartition, Long> start = planner().resolve(options.startingOffsets().orElse(null));
    Map<TopicPartition, Long> moved = committed.differing(start);
    startPosition = start;
    if (moved.isEmpty()) {
      return Recovered.nothingToReplay(committed.batchId());
    }
    long resetId = committed.batchId().orElse(-1L) + 1;
    log.warn(
        "stream {} starts at {} as its startingOffsets say, but {} holds {} for group '{}': recording the"
            + " start as a reset of the group (batch {}) so that progress continues from there",
        name(),
        moved,
        where(),
        committed.offsets(),
        group,
        resetId);
    Optional<OffsetStore> store = options.offsetStore();
    if (store.isPresent()) {
      store.get().reset(group, moved);
      return Recovered.nothingToReplay(store.get().lastBatchId(group));
    }
    planner().driver().commit(moved, KafkaCommitMetadata.encode(resetId, Instant.now()));
    return Recovered.nothingToReplay(OptionalLong.of(resetId));
  }

  /**
   * The committed batches before the restart lead to the stream's position only when the newest of
   * them ends exactly where the committed progress stands; after a reset they do not, and windows
   * start without them.
   */
  @Override
  public List<Planned<KafkaBatchPlan>> pastBatches(List<Planned<KafkaBatchPlan>> committed) {
    CommittedPosition position = committedAtStart;
    if (options.groupMembership()
        || committed.isEmpty()
        || position == null
        || !position.endsAt(committed.get(committed.size() - 1).plan().ranges())) {
      return List.of();
    }
    return committed;
  }

  @Override
  public void resume(boolean replaying) {
    Planned<KafkaBatchPlan> newest = newestPlanned;
    newestPlanned = null;
    if (options.groupMembership()) {
      planner().startAt(Map.of());
    } else if (replaying) {
      log.info(
          "stream {} continues after batch {}: {}",
          name(),
          newest.batchId(),
          newest.plan().ranges());
      planner().restore(newest.plan());
    } else if (startPosition != null) {
      log.info("stream {} starts at {}", name(), startPosition);
      planner().startAt(startPosition);
    } else {
      Map<TopicPartition, Long> next = planner().resolve(null);
      log.info("stream {} continues from {} at {}", name(), where(), next);
      planner().startAt(next);
    }
    startPosition = null;
  }

  private String where() {
    return options
        .offsetStore()
        .map(OffsetStore::describe)
        .orElse("consumer group '" + group + "'");
  }

  private static String describe(OptionalLong batchId) {
    return batchId.isPresent() ? String.valueOf(batchId.getAsLong()) : "none";
  }

  private static Map<TopicPartition, Long> froms(KafkaBatchPlan plan) {
    Map<TopicPartition, Long> out = new TreeMap<>(TP_ORDER);
    plan.ranges().forEach(r -> out.put(r.topicPartition(), r.fromOffset()));
    return out;
  }

  @Override
  public KafkaBatchPlan plan(long batchId, Instant batchTime) {
    support.cache().evictIdle();
    return planner().plan(batchId);
  }

  @Override
  public RDD<ConsumerRecord<K, V>> compute(long batchId, Instant batchTime, KafkaBatchPlan plan) {
    if (support.deadLetters() != null && support.deadLetters().deferred()) {
      plansAwaitingLetters.put(batchId, plan);
    }
    List<OffsetRange> pieces = RangePieces.split(plan.ranges(), options.minPartitions());
    // The first batch's slots run their ranges one after another: the later ones find their
    // consumers made and their first records fetched.
    support.cache().readAhead(pieces);
    return new KafkaRDDImpl<>(context(), pieces, support, batchId);
  }

  @Override
  public void restore(long batchId, KafkaBatchPlan lastPlan) {
    log.info("stream {} continues after batch {}: {}", name(), batchId, lastPlan.ranges());
    planner().restore(lastPlan);
  }

  @Override
  public long recordCount(KafkaBatchPlan plan) {
    return plan.offsetCount();
  }

  /**
   * Commits the batch's ranges to the offset store, or to the consumer group, fenced by offsets: a
   * range that does not begin at the committed position fails the batch (another driver or a reset
   * moved the group), and nothing is overwritten.
   */
  @Override
  public void commit(Batch batch, KafkaBatchPlan plan) {
    // The batch id travels in the metadata, as the Kafka offset store and the Kafka sink write it,
    // so
    // a restart continues the ids after it.
    String metadata = KafkaCommitMetadata.encode(batch.id(), batch.time());
    lastCommitMetadata = metadata;
    if (support.deadLetters() != null) {
      // Letters kept for a transactional output that had no job in this batch (a window between
      // its slides): sent now, at-least-once, before the offsets move past their records.
      support.deadLetters().sendDeferred(batch.id());
    }
    flushCommitQueue(metadata);
    BatchCommit commit =
        new BatchCommit(group, batch.id(), batch.time(), plan.ranges(), plan.committedFrom());
    OffsetStore store = options.offsetStore().orElse(null);
    if (store != null) {
      if (options.groupMembership()) {
        // Refuses partitions this member lost; the store fences by offsets only.
        memberMetadata(untils(plan.ranges()).keySet());
        commit = commit.asShared();
      }
      try {
        store.commit(commit);
      } catch (OffsetStoreException e) {
        throw undeclaredCommitter(store, batch, plan).orElse(e);
      }
    } else {
      GroupCommitter group = committer();
      Map<TopicPartition, Long> untils = untils(plan.ranges());
      KafkaGroupOffsets.requireRangesStartAt(group.committed(untils.keySet()), commit, where());
      commitToGroup(untils, metadata);
    }
    committed(plan);
    markCommitted(batch.id());
  }

  /**
   * Commits to the consumer group: in group mode as the member (a commit from outside would be
   * refused while the group has members), retried while a rebalance is in progress.
   */
  private void commitToGroup(Map<TopicPartition, Long> offsets, String metadata) {
    GroupMember m = member;
    if (m == null) {
      committer().commit(offsets, metadata);
      return;
    }
    long deadline = System.nanoTime() + options.pollTimeout().toNanos();
    while (true) {
      try {
        m.commit(offsets, metadata, options.pollTimeout());
        return;
      } catch (RebalanceInProgressException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        // The member's thread completes the rebalance in its next poll.
        LockSupport.parkNanos(50_000_000L);
      }
    }
  }

  /**
   * When the store already holds exactly this batch, an output of this context committed it without
   * declaring so (a wrapper that does not pass on {@code offsetCommitTarget()}): say that, rather
   * than blaming another driver.
   */
  private Optional<RuntimeException> undeclaredCommitter(
      OffsetStore store, Batch batch, KafkaBatchPlan plan) {
    try {
      if (store.lastBatchId(group).equals(OptionalLong.of(batch.id()))
          && store.committed(group).entrySet().containsAll(untils(plan.ranges()).entrySet())) {
        return Optional.of(
            new IllegalStateException(
                "batch "
                    + batch.id()
                    + " of group '"
                    + group
                    + "' is already"
                    + " committed to "
                    + store.describe()
                    + " by an output of this context that does not declare it: an"
                    + " output committing the offsets must return its target from BatchOutput.offsetCommitTarget() (a"
                    + " wrapper must pass it on), so that the stream does not commit them a second time"));
      }
    } catch (RuntimeException ignored) {
      // the original failure says enough
    }
    return Optional.empty();
  }

  /**
   * When the output committing the stream's offsets can write dead letters inside its transaction
   * on the dead-letter topic's cluster, the stream leaves them to it: each appears to {@code
   * read_committed} readers exactly when its batch commits, once.
   */
  @Override
  public void committedBy(BatchOutput<?> output) {
    if (options.groupMembership() && output instanceof GroupMemberCommits members) {
      members.commitAsMemberOf(group, memberKey(), this::memberMetadata);
    }
    DeadLetterSender letters = support.deadLetters();
    if (letters != null
        && output instanceof DeadLetterTransaction transaction
        && transaction.acceptsDeadLettersFor(letters.clusterKey())) {
      transaction.addDeadLetterSource(letters.deferTo(output.describe(), this::decodeBadRecords));
    } else if (letters != null && output instanceof DeadLetterTransaction) {
      log.info(
          "input {}: dead-letter topic {} is on another cluster than {}: dead letters are sent"
              + " at-least-once (dedupe on their source position headers)",
          name(),
          letters.topic(),
          output.describe());
    }
  }

  /**
   * Before batch {@code batchId}'s letters are written: reads, for their bad records only, the
   * batch's ranges that no job decoded in the batch (a window between its slides, an output that
   * drops its input), so that no dead letter is missed when the offsets move past its record. Job
   * thread of the committing output, or the scheduler thread.
   */
  private void decodeBadRecords(long batchId) {
    KafkaBatchPlan plan = plansAwaitingLetters.remove(batchId);
    plansAwaitingLetters.headMap(batchId).clear();
    if (plan == null) {
      return;
    }
    java.util.Set<TopicPartition> done = support.deadLetters().decoded(batchId);
    List<OffsetRange> missing =
        plan.ranges().stream()
            .filter(r -> r.count() > 0 && !done.contains(r.topicPartition()))
            .toList();
    if (!missing.isEmpty()) {
      new KafkaRDDImpl<K, V>(context(), missing, support, batchId)
          .foreachPartition(it -> it.forEachRemaining(r -> {}));
    }
  }

  @Override
  public void committedByOutput(Batch batch, KafkaBatchPlan plan) {
    flushCommitQueue(KafkaCommitMetadata.encode(batch.id(), batch.time()));
    committed(plan);
    markCommitted(batch.id());
  }

  private void committed(KafkaBatchPlan plan) {
    plan.ranges().forEach(r -> metrics.committed(r.topicPartition(), r.untilOffset()));
    if (plan.last()) {
      exhausted = true;
    }
  }

  private static Map<TopicPartition, Long> untils(List<OffsetRange> ranges) {
    Map<TopicPartition, Long> out = new HashMap<>();
    ranges.forEach(r -> out.put(r.topicPartition(), r.untilOffset()));
    return out;
  }

  private void flushCommitQueue(String metadata) {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    for (OffsetRange r; (r = commitQueue.poll()) != null; ) {
      offsets.merge(r.topicPartition(), r.untilOffset(), Math::max);
    }
    if (!offsets.isEmpty()) {
      commitToGroup(offsets, metadata);
    }
  }

  /**
   * The consumer-group commits' own consumer: the driver consumer stays free for planning while a
   * commit waits for the group coordinator. Job-scheduler thread, and stop.
   */
  private synchronized GroupCommitter committer() {
    if (committer == null) {
      committer = GroupCommitter.forStream(strategy.kafkaParams(), options.pollTimeout());
    }
    return committer;
  }

  @Override
  public void commitAsync(List<OffsetRange> ranges) {
    commitQueue.addAll(ranges);
  }

  @Override
  public void onRateUpdate(long recordsPerSecond) {
    planner().onRateUpdate(recordsPerSecond);
  }

  @Override
  public boolean isExhausted() {
    return exhausted;
  }

  @Override
  public void stop() {
    DirectPlanner p;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      p = planner;
    }
    try {
      if (p != null && !commitQueue.isEmpty()) {
        flushCommitQueue(lastCommitMetadata);
      }
    } catch (RuntimeException e) {
      log.warn("stream {}: committing the queued commitAsync offsets on stop failed", name(), e);
    } finally {
      GroupMember m = member;
      if (m != null) {
        // Leaving the group hands its partitions to the other members at once.
        m.close();
      }
      GroupCommitter c;
      synchronized (this) {
        c = committer;
      }
      if (c != null) {
        c.close();
      }
      support.cache().close();
      if (support.deadLetters() != null) {
        support.deadLetters().close();
      }
      if (p != null) {
        p.close();
      }
    }
  }
}
