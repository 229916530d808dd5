package io.sluice.offsets;

import io.sluice.offsets.TransactionalProducerException.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of a Kafka transactional producer in Sluice: the Kafka offset store's per-group
 * committer and the exactly-once Kafka sink both go through it. It begins, sends, adds a batch's
 * offsets after checking where the group stands, commits and aborts, and classifies every failure
 * once (modelled on Kafka Streams' {@code StreamsProducer}).
 *
 * <p><b>Lifecycle.</b> {@link #start} creates the producer and calls {@code initTransactions()},
 * which fences every older producer with the same {@code transactional.id} and aborts a transaction
 * a crashed one left open. Then, per batch: {@link #begin()}, any number of {@link #send}s, and
 * {@link #commit} (flush, check each group's committed offsets, {@code sendOffsetsToTransaction},
 * {@code commitTransaction}) or {@link #abort}. {@link #close(Duration)} is idempotent; a
 * transaction still open is aborted.
 *
 * <p><b>Threads.</b> {@link #begin}, {@link #flush}, {@link #commit}, {@link #abort} and {@link
 * #close} are called by the thread that owns the transaction (the store's committer under its lock,
 * the sink's job thread); they are serialised on an internal lock and block up to the timeout given
 * at {@link #start}. {@link #send} may be called from any number of threads at once while a
 * transaction is open, i.e. after {@link #begin()} returned and before {@link #commit} or {@link
 * #abort} is called; every send must complete (return) before the owning thread commits. A send
 * outside a transaction is refused.
 *
 * <p><b>Errors</b>, classified by {@link #classify} into {@link Kind} (first match in the failure,
 * its causes and suppressed exceptions):
 *
 * <table>
 *   <caption>Classification</caption>
 *   <tr><th>Kafka exception</th><th>kind</th><th>why</th></tr>
 *   <tr><td>{@code ProducerFencedException}</td><td>FENCED</td><td>Its Javadoc: fatal, another producer with
 *       the id started; close. The client reports a transaction coordinator's {@code INVALID_PRODUCER_EPOCH}
 *       as this exception too ({@code TransactionManager}'s handlers: {@code fatalError(PRODUCER_FENCED)}).
 *       {@code StreamsProducer} throws {@code TaskMigratedException}.</td></tr>
 *   <tr><td>{@code InvalidConfigurationException}: every {@code AuthorizationException} and
 *       {@code AuthenticationException}, {@code UnsupportedVersionException}, {@code InvalidTopicException},
 *       ...</td><td>FATAL</td><td>KIP-1050's category for errors the application must fix; the client makes
 *       {@code TransactionalIdAuthorization}, {@code ClusterAuthorization} and {@code UnsupportedVersion} fatal
 *       ({@code TransactionManager.maybeTransitionToErrorState}); Streams' {@code RecordCollectorImpl} treats
 *       authentication, authorization and invalid topics as fatal.</td></tr>
 *   <tr><td>{@code InvalidProducerEpochException}</td><td>ABORTABLE</td><td>Surfaces only from a partition
 *       leader's produce response (the coordinator's is turned into {@code ProducerFencedException}, above);
 *       its Javadoc says to abort, which bumps the epoch. Streams maps it to {@code TaskMigratedException}
 *       because a rebalance then settles who owns the task; Sluice's transactional ids are fixed, so the
 *       abort settles it: if a newer producer holds the id, {@code abortTransaction} fails with
 *       {@code ProducerFencedException} and the producer is FENCED.</td></tr>
 *   <tr><td>{@code TransactionAbortableException}, {@code OutOfOrderSequenceException},
 *       {@code UnknownProducerIdException}, {@code InvalidPidMappingException}, timeouts, failed sends
 *       ({@code RecordTooLargeException}, serialization), a refused group check, anything else</td>
 *       <td>ABORTABLE</td><td>The client moves a transactional producer to its abortable state for these
 *       ({@code maybeTransitionToErrorState}; KIP-360 bumps the epoch on abort). Streams recreates the
 *       producer for the sequence and pid-mapping errors: here, when the abort itself fails (not fenced),
 *       the producer is closed and a new one is created, with {@code initTransactions()}, at the next
 *       {@link #begin()}.</td></tr>
 * </table>
 *
 * <p>A method that fails while a transaction is open has ended it before it throws: aborted
 * (ABORTABLE), or left to the broker with the producer closed (FENCED, FATAL). It throws a {@link
 * TransactionalProducerException} carrying the kind, except that a failure of the group check or of
 * reading the group ({@link OffsetFencedException}, {@link StaleBatchException}, {@link
 * OffsetStoreException}) is rethrown as it is; {@link #fenced()} then tells whether the abort found
 * this producer fenced.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class TransactionalProducer<K, V> implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TransactionalProducer.class);

  private enum State {
    READY,
    IN_TRANSACTION,
    FENCED,
    FAILED,
    CLOSED
  }

  private final String transactionalId;
  private final Supplier<Producer<K, V>> factory;
  private final Admin admin;
  private final Duration timeout;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile State state = State.READY; // written under lock
  private volatile TransactionalProducerException
      terminal; // why FENCED or FAILED; written before state
  private Producer<K, V> producer; // guarded by lock; null when the next begin() must create one
  private volatile Transaction<K, V> open; // written under lock; read by send() on any thread

  private TransactionalProducer(
      String transactionalId, Supplier<Producer<K, V>> factory, Admin admin, Duration timeout) {
    this.transactionalId = transactionalId;
    this.factory = factory;
    this.admin = admin;
    this.timeout = timeout;
  }

  /**
   * Creates the producer and calls {@code initTransactions()}, fencing older producers with the
   * same id and aborting a transaction one left open. Blocking, up to {@code timeout}.
   *
   * @param transactionalId the {@code transactional.id}
   * @param config producer settings; {@code transactional.id}, {@code enable.idempotence=true} and
   *     {@code acks=all} are set here, {@code max.block.ms} to {@code timeout} unless given
   * @param keySerializer the key serializer, or null for {@code key.serializer} in {@code config}
   * @param valueSerializer the value serializer, or null for {@code value.serializer} in {@code
   *     config}
   * @param admin reads the groups' committed offsets in {@link #commit}; borrowed, not closed here
   * @param timeout bounds every blocking call, including reading a group's offsets
   * @throws TransactionalProducerException when the producer cannot be created or initialised
   */
  public static <K, V> TransactionalProducer<K, V> start(
      String transactionalId,
      Map<String, ?> config,
      Serializer<K> keySerializer,
      Serializer<V> valueSerializer,
      Admin admin,
      Duration timeout) {
    Objects.requireNonNull(transactionalId, "transactionalId must not be null");
    Objects.requireNonNull(admin, "admin must not be null");
    Objects.requireNonNull(timeout, "timeout must not be null");
    Map<String, Object> settings =
        new HashMap<>(Objects.requireNonNull(config, "config must not be null"));
    settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    settings.put(ProducerConfig.ACKS_CONFIG, "all");
    settings.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
    Map<String, Object> frozen = Collections.unmodifiableMap(settings);
    TransactionalProducer<K, V> p =
        new TransactionalProducer<>(
            transactionalId,
            () -> new KafkaProducer<>(frozen, keySerializer, valueSerializer),
            admin,
            timeout);
    p.lock.lock();
    try {
      p.producer = p.initialized();
    } finally {
      p.lock.unlock();
    }
    return p;
  }

  /** The {@code transactional.id}. */
  public String transactionalId() {
    return transactionalId;
  }

  /**
   * Whether a newer producer with the same id fenced this one; it then refuses every call but
   * close.
   */
  public boolean fenced() {
    return state == State.FENCED;
  }

  /**
   * Begins a transaction; creates and initialises a new producer first when a failed abort closed
   * the last one. Owning thread only.
   *
   * @throws TransactionalProducerException when the producer is fenced or failed for good
   *     (refused), or beginning fails
   * @throws IllegalStateException when a transaction is already open or the producer is closed
   */
  public void begin() {
    lock.lock();
    try {
      requireUsable("begin a transaction");
      if (state == State.IN_TRANSACTION) {
        throw new IllegalStateException(
            describe() + ": a transaction is already open; commit or abort it first");
      }
      if (producer == null) {
        LOG.info("{}: creating a new producer after its last one failed", describe());
        try {
          producer = initialized();
        } catch (TransactionalProducerException e) {
          apply(e.kind(), e);
          throw e;
        }
      }
      try {
        producer.beginTransaction();
      } catch (RuntimeException e) {
        throw failure("begin a transaction", e);
      }
      open = new Transaction<>(producer);
      state = State.IN_TRANSACTION;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sends a record in the open transaction, asynchronously. Any thread, concurrently with other
   * sends. A send that fails, here or later in its callback, dooms the transaction: {@link #commit}
   * then aborts it.
   *
   * @param callback called with the outcome on the producer's I/O thread; may be null
   * @throws TransactionalProducerException when the record cannot be handed to the producer
   *     (serialization, a producer in error); the transaction can no longer commit
   * @throws IllegalStateException when no transaction is open
   */
  public Future<RecordMetadata> send(ProducerRecord<K, V> record, Callback callback) {
    Transaction<K, V> txn = open;
    if (txn == null) {
      throw refusal("send a record");
    }
    try {
      return txn.producer.send(
          record,
          (metadata, e) -> {
            if (e != null) {
              txn.failedSend.compareAndSet(null, e);
            }
            if (callback != null) {
              callback.onCompletion(metadata, e);
            }
          });
    } catch (RuntimeException e) {
      txn.failedSend.compareAndSet(null, e);
      throw new TransactionalProducerException(
          classify(e),
          describe()
              + ": cannot send a record to topic "
              + record.topic()
              + ": "
              + e
              + "; the transaction can no longer commit",
          e);
    }
  }

  /**
   * Waits until every record sent so far is acknowledged; a failed send aborts the transaction.
   * Owning thread only.
   *
   * @throws TransactionalProducerException when a send failed (the transaction is then aborted)
   */
  public void flush() {
    lock.lock();
    try {
      flushSends(requireTransaction("flush"));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Commits the open transaction with the batches' offsets: flushes the sends (any failed send
   * aborts), then for each commit reads its group's stable committed offsets ({@link
   * KafkaGroupOffsets#readStable}) inside the transaction, runs {@code check} on them, and adds the
   * ranges' {@code untilOffset}s with {@link KafkaCommitMetadata} to the transaction; then {@code
   * commitTransaction()}. Records and offsets become visible to {@code read_committed} consumers
   * together. Owning thread only; blocking.
   *
   * @param commits one commit per group, each with at most one range per partition; may be empty
   * @param check run per commit before its offsets are added; throwing refuses the commit
   * @throws OffsetStoreException what {@code check} or reading the group threw, after the abort
   * @throws TransactionalProducerException when a send, adding the offsets or the commit failed;
   *     the transaction was aborted (or left to the broker, for FENCED and FATAL)
   */
  public void commit(List<BatchCommit> commits, GroupCheck check) {
    commit(commits, check, commit -> new ConsumerGroupMetadata(commit.group()));
  }

  /**
   * Like {@link #commit(List, GroupCheck)}, sending each group's offsets with the metadata {@code
   * members} gives for it: a group-mode input's member (member id and generation, KIP-447), so that
   * the group coordinator refuses the offsets of a member that lost its partitions in a rebalance,
   * or a plain {@code new ConsumerGroupMetadata(group)}.
   */
  public void commit(
      List<BatchCommit> commits,
      GroupCheck check,
      Function<BatchCommit, ConsumerGroupMetadata> members) {
    Objects.requireNonNull(commits, "commits must not be null");
    Objects.requireNonNull(check, "check must not be null");
    Objects.requireNonNull(members, "members must not be null");
    lock.lock();
    try {
      flushSends(requireTransaction("commit"));
      try {
        for (BatchCommit commit : commits) {
          List<TopicPartition> scope =
              check.wholeGroup()
                  ? null
                  : commit.ranges().stream().map(OffsetRange::topicPartition).toList();
          check.check(commit, KafkaGroupOffsets.readStable(admin, commit.group(), scope, timeout));
          Map<TopicPartition, OffsetAndMetadata> offsets = offsets(commit);
          if (!offsets.isEmpty()) {
            producer.sendOffsetsToTransaction(offsets, members.apply(commit));
          }
        }
        producer.commitTransaction();
      } catch (RuntimeException e) {
        throw failure("commit the transaction", e);
      }
      open = null;
      state = State.READY;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Aborts the open transaction after a failure outside this class (user code, a task, a hook);
   * does nothing when no transaction is open, e.g. because a failed call here already ended it.
   * Never throws: what the abort finds is added to {@code cause} as suppressed and applied to this
   * producer, so {@link #fenced()} and the next call tell. Owning thread only.
   *
   * @param cause why the transaction is given up; classified like any failure (a fence in it
   *     fences)
   */
  public void abort(Throwable cause) {
    Objects.requireNonNull(cause, "cause must not be null");
    lock.lock();
    try {
      if (state == State.IN_TRANSACTION) {
        end(cause);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the producer, waiting up to the timeout given at {@link #start}; see {@link
   * #close(Duration)}.
   */
  @Override
  public void close() {
    close(timeout);
  }

  /**
   * Closes the producer, waiting up to {@code wait}; a transaction still open is aborted (by the
   * producer's shutdown, or by the broker's transaction timeout). Idempotent. Owning thread only.
   */
  public void close(Duration wait) {
    lock.lock();
    try {
      if (state != State.CLOSED) {
        closeProducer(wait);
        open = null;
        state = State.CLOSED;
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return describe();
  }

  /**
   * The one classification of a transactional producer's failures: see the table in the class
   * comment. FENCED wins over FATAL, FATAL over ABORTABLE, wherever in the chain of causes and
   * suppressed exceptions they appear.
   */
  static Kind classify(Throwable failure) {
    Kind kind = Kind.ABORTABLE;
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<Throwable> pending = new ArrayList<>(List.of(failure));
    while (!pending.isEmpty()) {
      Throwable t = pending.remove(pending.size() - 1);
      if (t == null || !seen.add(t)) {
        continue;
      }
      if (t instanceof ProducerFencedException
          || t instanceof TransactionalProducerException e && e.kind() == Kind.FENCED) {
        return Kind.FENCED;
      }
      if (t instanceof InvalidConfigurationException
          || t instanceof TransactionalProducerException e && e.kind() == Kind.FATAL) {
        kind = Kind.FATAL;
      }
      pending.add(t.getCause());
      pending.addAll(List.of(t.getSuppressed()));
    }
    return kind;
  }

  // ---- internals, under lock

  private String describe() {
    return "transactional producer '" + transactionalId + "'";
  }

  private Producer<K, V> initialized() {
    Producer<K, V> p;
    try {
      p = factory.get();
    } catch (KafkaException e) {
      throw new TransactionalProducerException(
          classify(e), describe() + ": cannot create the producer: " + e, e);
    }
    try {
      p.initTransactions();
    } catch (RuntimeException e) {
      p.close(Duration.ZERO);
      throw new TransactionalProducerException(
          classify(e), describe() + ": initTransactions failed: " + e, e);
    }
    LOG.info(
        "{} ready; older producers with this id are fenced and a transaction they left open is aborted",
        describe());
    return p;
  }

  /** Throws when the producer refuses calls: fenced or failed for good (the reason), or closed. */
  private void requireUsable(String what) {
    State s = state;
    if (s == State.FENCED || s == State.FAILED) {
      throw new TransactionalProducerException(
          terminal.kind(),
          describe() + " refuses to " + what + ": " + terminal.getMessage(),
          terminal.getCause());
    }
    if (s == State.CLOSED) {
      throw new IllegalStateException(describe() + " is closed");
    }
  }

  private Transaction<K, V> requireTransaction(String what) {
    requireUsable(what);
    Transaction<K, V> txn = open;
    if (state != State.IN_TRANSACTION || txn == null) {
      throw new IllegalStateException(
          describe() + ": cannot " + what + ": no transaction is open (call begin())");
    }
    return txn;
  }

  /**
   * The exception for a send outside an open transaction; reads volatile fields only, takes no
   * lock.
   */
  private RuntimeException refusal(String what) {
    try {
      requireUsable(what);
    } catch (RuntimeException e) {
      return e;
    }
    return new IllegalStateException(
        describe() + ": cannot " + what + ": no transaction is open (call begin())");
  }

  private void flushSends(Transaction<K, V> txn) {
    try {
      producer.flush();
    } catch (RuntimeException e) {
      throw failure("flush the transaction's sends", e);
    }
    Exception failedSend = txn.failedSend.get();
    if (failedSend != null) {
      RuntimeException e =
          failedSend instanceof RuntimeException r ? r : new KafkaException(failedSend);
      throw failure("commit: a send of the transaction failed", e);
    }
  }

  /** Ends the open transaction after {@code error} and builds what the failed call throws. */
  private RuntimeException failure(String what, RuntimeException error) {
    Kind kind = end(error);
    if (error instanceof OffsetStoreException e
        && !(error instanceof TransactionalProducerException)) {
      return e; // the caller's check refused, or the group could not be read
    }
    String outcome =
        switch (kind) {
          case FENCED ->
              "fenced by a newer producer with the same transactional.id; this instance refuses every"
                  + " further call (stop this process, it is a zombie)";
          case FATAL ->
              "the producer is closed and refuses every further call (fix the cause, then restart)";
          case ABORTABLE -> "the transaction was aborted";
        };
    return new TransactionalProducerException(
        kind, describe() + ": cannot " + what + "; " + outcome + ": " + error, error);
  }

  /**
   * Ends the transaction, if one is open, after {@code error}: aborts it when the error is
   * abortable, then applies the resulting kind to this producer. An abort that fails adds its
   * failure to {@code error} and decides the kind; if it is not fenced or fatal either, the
   * producer is dropped and the next {@link #begin()} creates a new one.
   */
  private Kind end(Throwable error) {
    Kind kind = classify(error);
    if (kind == Kind.ABORTABLE && producer != null) {
      if (state == State.IN_TRANSACTION) {
        try {
          producer.abortTransaction();
        } catch (RuntimeException abortFailure) {
          error.addSuppressed(abortFailure);
          kind = classify(abortFailure);
          if (kind == Kind.ABORTABLE) {
            LOG.warn(
                "{}: abortTransaction failed ({}); the next transaction starts a new producer",
                describe(),
                abortFailure.toString());
            closeProducer(Duration.ZERO);
          }
        }
      } else {
        // beginTransaction failed: the producer is in an error state, start afresh next time.
        closeProducer(Duration.ZERO);
      }
    }
    open = null;
    if (state == State.IN_TRANSACTION) {
      state = State.READY;
    }
    apply(kind, error);
    return kind;
  }

  /** Makes a FENCED or FATAL failure final: the producer is closed and every later call refused. */
  private void apply(Kind kind, Throwable error) {
    if (kind == Kind.ABORTABLE
        || state == State.FENCED
        || state == State.FAILED
        || state == State.CLOSED) {
      return;
    }
    if (kind == Kind.FENCED) {
      terminal =
          new TransactionalProducerException(
              Kind.FENCED,
              describe()
                  + " was fenced: a newer producer with"
                  + " the same transactional.id started (another instance of this application, or a reset of its"
                  + " offsets). This process is a zombie: stop it; a restart continues from the committed position",
              error);
      LOG.warn("{}", terminal.getMessage());
    } else {
      terminal =
          new TransactionalProducerException(
              Kind.FATAL,
              describe()
                  + " failed for good: "
                  + error
                  + "; a new producer would fail the same way: fix the cause and restart",
              error);
      LOG.error("{}", terminal.getMessage());
    }
    closeProducer(Duration.ZERO);
    open = null;
    state = kind == Kind.FENCED ? State.FENCED : State.FAILED;
  }

  private void closeProducer(Duration wait) {
    if (producer != null) {
      try {
        producer.close(wait);
      } catch (RuntimeException e) {
        LOG.warn("{}: closing the producer failed: {}", describe(), e.toString());
      }
      producer = null;
    }
  }

  private static Map<TopicPartition, OffsetAndMetadata> offsets(BatchCommit commit) {
    String metadata = KafkaCommitMetadata.encode(commit.batchId(), commit.batchTime());
    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
    for (OffsetRange r : commit.ranges()) {
      offsets.put(r.topicPartition(), new OffsetAndMetadata(r.untilOffset(), metadata));
    }
    return offsets;
  }

  /** One transaction's producer and its first failed send. */
  private static final class Transaction<K, V> {
    final Producer<K, V> producer;
    final AtomicReference<Exception> failedSend = new AtomicReference<>();

    Transaction(Producer<K, V> producer) {
      this.producer = producer;
    }
  }

  /**
   * A check of a group's committed offsets, run inside the open transaction before the commit's
   * offsets are added to it; throwing refuses the commit and the transaction is aborted.
   */
  @FunctionalInterface
  public interface GroupCheck {

    /**
     * Checks {@code commit} against its group.
     *
     * @param committed the group's stable committed offsets, read from the broker inside the
     *     transaction
     * @throws OffsetStoreException to refuse the commit
     */
    void check(BatchCommit commit, Map<TopicPartition, OffsetAndMetadata> committed);

    /**
     * Whether the check reads every partition of the group (a batch id check does), or only the
     * commit's partitions. Default: every partition.
     */
    default boolean wholeGroup() {
      return true;
    }

    /**
     * The offset fence: every range must begin at its partition's committed next offset (or where
     * {@link BatchCommit#expectedFrom} says); partitions never committed are accepted.
     *
     * @param where who refuses, for the message of the {@link OffsetFencedException}
     */
    static GroupCheck rangesStartAt(String where) {
      return new GroupCheck() {
        @Override
        public void check(BatchCommit commit, Map<TopicPartition, OffsetAndMetadata> committed) {
          Map<TopicPartition, Long> positions = new HashMap<>();
          committed.forEach((tp, om) -> positions.put(tp, om.offset()));
          KafkaGroupOffsets.requireRangesStartAt(positions, commit, where);
        }

        /** The fence looks at the commit's partitions only. */
        @Override
        public boolean wholeGroup() {
          return false;
        }
      };
    }
  }
}
