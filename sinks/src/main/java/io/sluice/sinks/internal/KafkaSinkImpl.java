package io.sluice.sinks.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.LeadershipLostException;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.TerminalException;
import io.sluice.engine.function.Function;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.StateChange;
import io.sluice.engine.state.StateChangelog;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.DeadLetterTransaction;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.TransactionalProducer;
import io.sluice.offsets.TransactionalProducerException;
import io.sluice.sinks.KafkaSink;
import io.sluice.sinks.SinkException;
import io.sluice.sinks.TransactionalSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.IllegalGenerationException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka sink; see {@link KafkaSink}. Exactly-once, the transaction is the {@link
 * TransactionalProducer}'s (the one owner of transactional producers, shared with the Kafka offset
 * store): the job thread begins, commits and aborts under {@code lock}; task threads only send,
 * which the owner allows concurrently while a transaction is open. At-least-once, a plain
 * idempotent producer, shared the same way. Built at-least-once as a plain {@link KafkaSink};
 * exactly-once through {@link TransactionalKafkaSinkImpl}, which only adds the transactional type.
 *
 * @param <T> record type
 */
public class KafkaSinkImpl<T> implements KafkaSink<T> {

  private static final int DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

  /**
   * Attempts of a group-mode batch whose offsets the coordinator refuses for a generation a
   * rebalance has just replaced.
   */
  private static final int GENERATION_ATTEMPTS = 5;

  private static final Logger LOG = LoggerFactory.getLogger(KafkaSinkImpl.class);

  /** Records a task maps before it sends them into the transaction. */
  static final int SEND_CHUNK = 1_000;

  /** The validated builder settings. */
  public record Settings<T>(
      Map<String, Object> producerConfig,
      Function<T, ? extends ProducerRecord<?, ?>> record,
      Serializer<?> keySerializer,
      Serializer<?> valueSerializer,
      boolean exactlyOnce,
      String name,
      Duration transactionTimeout,
      Duration timeout) {}

  private final Settings<T> settings;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile SinkMetrics metrics;
  private volatile String transactionalId;
  private StreamingContext context; // guarded by lock
  private TransactionalProducer<Object, Object> transactional; // guarded by lock; exactly-once
  private KafkaProducer<Object, Object> plain; // guarded by lock; at-least-once
  private Admin admin; // guarded by lock
  private volatile KafkaStateTopics stateTopics; // exactly-once, once open
  private boolean closed; // guarded by lock
  // The inputs' dead letters for the batch's transaction (exactly-once; see the subclass).
  final List<DeadLetterTransaction.Source> deadLetters = new CopyOnWriteArrayList<>();

  /** Group-mode members the exactly-once sink commits for, by group; set before open. */
  final Map<String, java.util.function.Function<Collection<TopicPartition>, ConsumerGroupMetadata>>
      members = new ConcurrentHashMap<>();

  /** The group-mode member key, part of the transactional id; null outside group mode. */
  volatile String memberKey;

  /** Creates the sink from validated settings; connects at {@link #open}. */
  public KafkaSinkImpl(Settings<T> settings) {
    this.settings = settings;
    this.metrics = SinkMetrics.detached(describe());
  }

  @Override
  public String describe() {
    return "KafkaSink[" + settings.name() + "]";
  }

  public String transactionalId() {
    return transactionalId;
  }

  @Override
  public DeliveryGuarantee guarantee() {
    return settings.exactlyOnce()
        ? DeliveryGuarantee.EXACTLY_ONCE
        : DeliveryGuarantee.AT_LEAST_ONCE;
  }

  @Override
  public Optional<CommitTarget> offsetCommitTarget() {
    if (!settings.exactlyOnce()) {
      return Optional.empty();
    }
    Object servers = settings.producerConfig().get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
    return Optional.of(
        new CommitTarget(
            KafkaGroupOffsets.clusterKey(servers),
            "the consumer groups of the Kafka cluster at " + servers));
  }

  /**
   * Exactly-once: the changelog of keyed state that moves with a group-mode input's partitions, in
   * compacted topics {@code <app>-<operator>-<topic>-changelog} written in each batch's
   * transaction.
   */
  @Override
  public Optional<StateChangelog> stateChangelog() {
    if (!settings.exactlyOnce()) {
      return Optional.empty();
    }
    return Optional.of(
        new StateChangelog() {
          @Override
          public void restore(String operator, String source, BiConsumer<byte[], byte[]> entry)
              throws Exception {
            KafkaStateTopics topics = stateTopics;
            if (topics == null) {
              throw new IllegalStateException(describe() + " is not open");
            }
            topics.restore(operator, source, entry);
          }

          @Override
          public String describeChangelog() {
            return "compacted topics <app>-<operator>-<topic>-changelog of " + describe();
          }
        });
  }

  @Override
  public List<String> exactlyOnceGaps() {
    return settings.exactlyOnce()
        ? List.of()
        : List.of(
            describe()
                + " is at-least-once: a replayed batch is sent again (build it with exactlyOnce())");
  }

  private long transactionTimeoutMs() {
    if (settings.transactionTimeout() != null) {
      return settings.transactionTimeout().toMillis();
    }
    Object configured = settings.producerConfig().get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG);
    return configured == null
        ? DEFAULT_TRANSACTION_TIMEOUT_MS
        : Long.parseLong(configured.toString());
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void open(StreamingContext ctx) {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException(describe() + " is closed");
      }
      context = ctx;
      metrics = SinkMetrics.of(ctx.meterRegistry(), ctx.appName(), describe());
      if (settings.exactlyOnce()) {
        transactionalId =
            ctx.appName() + "-" + settings.name() + (memberKey == null ? "" : "-" + memberKey);
        admin = Admin.create(adminConfig());
        stateTopics =
            new KafkaStateTopics(
                ctx.appName(), settings.producerConfig(), admin, settings.timeout());
        TransactionTimeoutCheck.check(
            describe(), transactionTimeoutMs(), ctx.batchInterval(), admin, settings.timeout());
        transactional = startTransactional();
      } else {
        plain = newPlainProducer();
      }
    } catch (RuntimeException e) {
      releaseClients();
      throw e;
    } finally {
      lock.unlock();
    }
  }

  private Map<String, Object> adminConfig() {
    Map<String, Object> config = new HashMap<>();
    settings
        .producerConfig()
        .forEach(
            (k, v) -> {
              if (AdminClientConfig.configNames().contains(k)
                  && !k.equals(AdminClientConfig.CLIENT_ID_CONFIG)) {
                config.put(k, v);
              }
            });
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-sink-admin-" + settings.name());
    config.put(
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) settings.timeout().toMillis());
    return config;
  }

  /**
   * The transactional producer, after {@code initTransactions()}, which fences older producers with
   * the same transactional id and aborts the transaction a crashed one left open.
   */
  private TransactionalProducer<Object, Object> startTransactional() {
    Map<String, Object> config = producerConfig();
    config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) transactionTimeoutMs());
    try {
      // Dead letters are bytes already; the user's serializers see only the user's records.
      return TransactionalProducer.start(
          transactionalId,
          config,
          DeadLetterBytes.passingRaw(settings.keySerializer(), config, true),
          DeadLetterBytes.passingRaw(settings.valueSerializer(), config, false),
          admin,
          settings.timeout());
    } catch (TransactionalProducerException e) {
      throw new SinkException(
          describe()
              + ": initTransactions for transactional.id '"
              + transactionalId
              + "' failed: "
              + e.getCause(),
          e);
    }
  }

  @SuppressWarnings("unchecked")
  private KafkaProducer<Object, Object> newPlainProducer() {
    Map<String, Object> config = producerConfig();
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(
        config,
        (Serializer<Object>) settings.keySerializer(),
        (Serializer<Object>) settings.valueSerializer());
  }

  private Map<String, Object> producerConfig() {
    Map<String, Object> config = new HashMap<>(settings.producerConfig());
    config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "sluice-sink-" + settings.name());
    // Bounds send, flush and every transactional call, so an unreachable broker fails the batch.
    config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, settings.timeout().toMillis());
    return config;
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      releaseClients();
    } finally {
      lock.unlock();
    }
  }

  private void releaseClients() {
    if (transactional != null) {
      // A transaction still open here belongs to a failed or interrupted batch: closing aborts it.
      transactional.close(settings.timeout());
      transactional = null;
    }
    if (plain != null) {
      plain.close(settings.timeout());
      plain = null;
    }
    if (admin != null) {
      admin.close(settings.timeout());
      admin = null;
    }
  }

  // ---------------------------------------------------------------- writing

  @Override
  public void write(RDD<T> rdd, Batch batch) throws Exception {
    lock.lockInterruptibly();
    try {
      if (closed) {
        throw new IllegalStateException(describe() + " is closed");
      }
      if (context == null || (transactional == null && plain == null)) {
        throw new IllegalStateException(
            describe() + " is not open: open(context) runs at StreamingContext.start()");
      }
      long start = System.nanoTime();
      if (settings.exactlyOnce()) {
        writeTransactionally(transactional, rdd, batch, start);
      } else {
        writeAtLeastOnce(plain, rdd, batch, start);
      }
    } finally {
      lock.unlock();
    }
  }

  private void writeAtLeastOnce(
      KafkaProducer<Object, Object> p, RDD<T> rdd, Batch batch, long start) {
    AtomicReference<Exception> error = new AtomicReference<>();
    Callback firstError =
        (metadata, e) -> {
          if (e != null) {
            error.compareAndSet(null, e);
          }
        };
    List<Integer> counts =
        rdd.runJob(
            (it, task) -> {
              int n = 0;
              while (it.hasNext()) {
                p.send(toRecord(it.next()), firstError);
                n++;
              }
              return n;
            });
    p.flush();
    if (error.get() != null) {
      throw new SinkException(
          describe() + ": sending batch " + batch.id() + " failed: " + error.get(), error.get());
    }
    metrics.batchWritten(start, sum(counts));
  }

  /**
   * Writes the batch in one transaction. In group mode, a commit the group coordinator refused
   * because the member's generation ended in a rebalance it survived (its consumer rejoins on a
   * thread of its own, so the generation can move on while the batch runs) is written again, in a
   * new transaction, once the member has its new generation: the aborted attempt is invisible to
   * {@code read_committed} readers, the batch's dead letters (taken from the inputs once) go into
   * every attempt, and the offset fence still refuses ranges another member has committed since. A
   * member that lost its partitions is refused by the member's metadata, and not retried.
   */
  private void writeTransactionally(
      TransactionalProducer<Object, Object> p, RDD<T> rdd, Batch batch, long start) {
    List<ProducerRecord<byte[], byte[]>> letters = null;
    for (int attempt = 1; ; attempt++) {
      Map<String, ConsumerGroupMetadata> used = new ConcurrentHashMap<>();
      List<ProducerRecord<byte[], byte[]>> taken = new ArrayList<>();
      try {
        writeOnce(p, rdd, batch, start, letters, taken, used);
        return;
      } catch (SinkException e) {
        if (letters == null) {
          letters = taken;
        }
        if (attempt >= GENERATION_ATTEMPTS
            || used.isEmpty()
            || !generationMoved(e)
            || !awaitNewGeneration(used)) {
          throw e;
        }
        LOG.warn(
            "{}: batch {}: the group coordinator refused the offsets with generation {}, which a"
                + " rebalance has replaced; nothing was committed, writing the batch again with the"
                + " member's new generation (attempt {} of {})",
            describe(),
            batch.id(),
            used.values().iterator().next().generationId(),
            attempt + 1,
            GENERATION_ATTEMPTS);
      }
    }
  }

  /**
   * One attempt: begin, the tasks' sends, the dead letters ({@code letters} of an earlier attempt,
   * or those the inputs hand over now, recorded in {@code taken}), the commit.
   */
  private void writeOnce(
      TransactionalProducer<Object, Object> p,
      RDD<T> rdd,
      Batch batch,
      long start,
      List<ProducerRecord<byte[], byte[]>> letters,
      List<ProducerRecord<byte[], byte[]>> taken,
      Map<String, ConsumerGroupMetadata> used) {
    List<BatchCommit> commits = TransactionalSink.batchCommits(batch);
    Set<Integer> startedPartitions = ConcurrentHashMap.newKeySet();
    long records;
    try {
      p.begin();
      records =
          sum(
              rdd.runJob(
                  (it, task) -> sendPartition(p, it, task.partition(), batch, startedPartitions)));
      if (letters == null) {
        deadLetters.forEach(source -> taken.addAll(source.take(batch.id())));
      }
      for (ProducerRecord<byte[], byte[]> letter : letters == null ? taken : letters) {
        p.send(DeadLetterBytes.record(letter), null);
      }
      List<StateChange> changes = StateChangelog.changes(rdd.context(), batch);
      if (!changes.isEmpty()) {
        for (ProducerRecord<Object, Object> change : stateTopics.records(changes)) {
          p.send(change, null);
        }
      }
      if (!rdd.context().isLeader()) {
        // A standby may have taken over; its claim fences this producer's commit anyway.
        throw new LeadershipLostException(
            describe()
                + ": batch "
                + batch.id()
                + " aborted: this process does not lead its application any more");
      }
      p.commit(
          commits,
          TransactionalProducer.GroupCheck.rangesStartAt(describe()),
          commit -> {
            var member = members.get(commit.group());
            if (member == null) {
              return new ConsumerGroupMetadata(commit.group());
            }
            ConsumerGroupMetadata metadata =
                member.apply(commit.ranges().stream().map(OffsetRange::topicPartition).toList());
            used.put(commit.group(), metadata);
            return metadata;
          });
    } catch (RuntimeException e) {
      throw failed(p, batch, e);
    }
    metrics.batchWritten(start, records);
  }

  /**
   * Whether {@code e} is the group coordinator refusing a group-mode commit because the member's
   * generation is over (or a rebalance is in progress).
   */
  static boolean generationMoved(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof CommitFailedException
          || t instanceof IllegalGenerationException
          || t instanceof RebalanceInProgressException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Waits, at most the sink's timeout, until every member in {@code used} has a generation other
   * than the one the refused commit carried; false when one does not (or failed).
   */
  private boolean awaitNewGeneration(Map<String, ConsumerGroupMetadata> used) {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    for (Map.Entry<String, ConsumerGroupMetadata> e : used.entrySet()) {
      var member = members.get(e.getKey());
      while (true) {
        try {
          if (member.apply(List.of()).generationId() != e.getValue().generationId()) {
            break;
          }
        } catch (RuntimeException failed) {
          return false;
        }
        if (System.nanoTime() > deadline) {
          return false;
        }
        // The member's thread moves to the new generation within its next polls.
        LockSupport.parkNanos(20_000_000L);
      }
    }
    return true;
  }

  /**
   * Sends one partition inside the open transaction, in chunks of {@link #SEND_CHUNK} records
   * mapped before they are sent, so that sending overlaps reading and the final flush has little
   * left to wait for. A failure in user code or in reading the input before the first chunk leaves
   * nothing in the transaction and the engine may retry the task; a partition attempted again after
   * it sent records would duplicate them in the transaction, so that attempt fails the batch
   * instead (aborted, then replayed).
   */
  private int sendPartition(
      TransactionalProducer<Object, Object> p,
      java.util.Iterator<T> it,
      int partition,
      Batch batch,
      Set<Integer> startedPartitions)
      throws Exception {
    List<ProducerRecord<Object, Object>> chunk = new ArrayList<>(SEND_CHUNK);
    int sent = 0;
    while (it.hasNext()) {
      chunk.add(toRecord(it.next()));
      if (chunk.size() == SEND_CHUNK || !it.hasNext()) {
        if (sent == 0 && !startedPartitions.add(partition)) {
          throw new TerminalException(
              describe()
                  + ": partition "
                  + partition
                  + " of batch "
                  + batch.id()
                  + " was attempted again after it had sent records into the open transaction; the"
                  + " transaction is aborted and the batch must be replayed");
        }
        for (ProducerRecord<Object, Object> r : chunk) {
          p.send(r, null);
        }
        sent += chunk.size();
        chunk.clear();
      }
    }
    return sent;
  }

  @SuppressWarnings("unchecked")
  private ProducerRecord<Object, Object> toRecord(T t) throws Exception {
    ProducerRecord<?, ?> r = settings.record().call(t);
    if (r == null) {
      throw new TerminalException(describe() + ": the record function returned null for " + t);
    }
    return (ProducerRecord<Object, Object>) r;
  }

  /**
   * Builds the batch's failure. The producer has ended the transaction when its own call failed; a
   * failure in the tasks is handed to it here to abort. A fenced producer refuses every later
   * batch.
   */
  private SinkException failed(
      TransactionalProducer<Object, Object> p, Batch batch, RuntimeException e) {
    p.abort(e);
    if (p.fenced()) {
      return new SinkException(
          describe()
              + ": batch "
              + batch.id()
              + " failed: producer '"
              + transactionalId
              + "' was fenced by a newer producer with the same transactional.id (another instance of this"
              + " application?); nothing of the batch is committed and this process can no longer write"
              + " (stop it)",
          e);
    }
    if (e instanceof OffsetFencedException) {
      return new SinkException(
          describe()
              + ": batch "
              + batch.id()
              + " aborted (no records, no offsets): "
              + e.getMessage(),
          e);
    }
    if (e instanceof TransactionalProducerException t
        && t.kind() == TransactionalProducerException.Kind.FATAL) {
      return new SinkException(
          describe()
              + ": batch "
              + batch.id()
              + " failed and nothing of it is committed;"
              + " the producer failed for good: "
              + e.getMessage(),
          e);
    }
    return new SinkException(
        describe()
            + ": batch "
            + batch.id()
            + " failed and its transaction was aborted"
            + " (no records, no offsets committed): "
            + e,
        e);
  }

  private static long sum(List<Integer> counts) {
    long n = 0;
    for (int c : counts) {
      n += c;
    }
    return n;
  }
}
