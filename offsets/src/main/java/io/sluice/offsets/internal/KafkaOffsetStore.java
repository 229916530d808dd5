package io.sluice.offsets.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka store: offsets in the consumer group ({@code __consumer_offsets}), so that
 * {@code kafka-consumer-groups} shows the stream's lag, and the batch history in a topic.
 *
 * <p>A commit is one Kafka transaction of a producer whose {@code transactional.id} is derived from
 * the group: it appends the commit to the history topic and sends the offsets, with
 * {@code sluice:v1:batch=<id>;time=<instant>} as each partition's metadata, to the transaction;
 * the transaction coordinator makes both visible together or not at all. Starting a producer with
 * the same transactional id (another driver, or {@code sluice offsets reset}) fences this one: its
 * next commit fails, so a zombie driver cannot move the group. The last batch id is read once when
 * the producer starts (from the committed metadata and the history topic, after the fence is in
 * place) and then kept in memory, which is sound because no other Sluice store can commit for the
 * group without fencing this one. The offset check, by contrast, reads the group's stable offsets
 * from the broker inside every commit's transaction, because tools outside Sluice move a group
 * without the transactional id.
 *
 * <p>Thread-safe: commits of one group serialise on a lock; history reads share one consumer
 * under another lock.
 */
public final class KafkaOffsetStore extends AbstractOffsetStore {

  private final Map<String, Object> clientConfig;
  private final String bootstrapServers;
  private final String historyTopic;
  private final Optional<Short> historyReplicationFactor;
  private final Duration historyRetention;
  private final String transactionalIdPrefix;
  private final Duration timeout;
  private final CommitHook hook;
  private final Admin admin;
  private final Map<String, GroupCommitter> committers = new ConcurrentHashMap<>();
  private final Object historyLock = new Object();
  private KafkaConsumer<byte[], byte[]> historyConsumer; // guarded by historyLock
  private volatile int historyPartitions = -1;

  /** Creates the store; nothing connects until the first call. */
  public KafkaOffsetStore(Map<String, Object> clientConfig, String historyTopic, Optional<Short> historyReplicationFactor,
      Duration historyRetention, String transactionalIdPrefix, Duration timeout, Clock clock, CommitHook hook) {
    super(clock);
    this.clientConfig = Map.copyOf(clientConfig);
    this.bootstrapServers = String.valueOf(clientConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
    this.historyTopic = historyTopic;
    this.historyReplicationFactor = historyReplicationFactor;
    this.historyRetention = historyRetention;
    this.transactionalIdPrefix = transactionalIdPrefix;
    this.timeout = timeout;
    this.hook = hook;
    Map<String, Object> adminConfig = new HashMap<>(this.clientConfig);
    adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    adminConfig.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
    adminConfig.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-offsets-admin");
    this.admin = Admin.create(adminConfig);
  }

  @Override
  public Object location() {
    return KafkaGroupOffsets.clusterKey(bootstrapServers);
  }

  @Override
  public String describe() {
    return "kafka(" + bootstrapServers + ")";
  }

  // ---- reads

  @Override
  public Map<TopicPartition, Long> committed(String group) {
    checkGroup(group);
    ensureOpen();
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    groupOffsets(group).entrySet().stream()
        .sorted(Map.Entry.comparingByKey(Comparator.comparing(TopicPartition::topic)
            .thenComparingInt(TopicPartition::partition)))
        .forEach(e -> result.put(e.getKey(), e.getValue().offset()));
    return result;
  }

  /** The group's stable offsets (see {@link KafkaGroupOffsets#readStable}). */
  private Map<TopicPartition, OffsetAndMetadata> groupOffsets(String group) {
    try {
      return KafkaGroupOffsets.readStable(admin, group, timeout);
    } catch (OffsetStoreException e) {
      throw new OffsetStoreException(describe() + ": " + e.getMessage(), e.getCause() != null ? e.getCause() : e);
    }
  }

  private static void pause() {
    try {
      // Transaction markers land within milliseconds; a short pause avoids a busy loop.
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OffsetStoreException("interrupted while waiting for stable offsets", e);
    }
  }

  /** Waits until the committed offsets are readable as stable, so that a commit reads its own writes. */
  private void awaitStable(String group, Map<TopicPartition, OffsetAndMetadata> offsets) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<TopicPartition, OffsetAndMetadata> stable = readGroupOffsets(group, true);
      boolean visible = offsets.entrySet().stream().allMatch(e -> stable.get(e.getKey()) != null
          && stable.get(e.getKey()).offset() == e.getValue().offset());
      if (visible) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new OffsetStoreException(describe() + ": committed offsets of group '" + group
            + "' did not become readable within " + timeout.toMillis() + " ms");
      }
      pause();
    }
  }

  private Map<TopicPartition, OffsetAndMetadata> readGroupOffsets(String group, boolean requireStable) {
    try {
      return KafkaGroupOffsets.read(admin, group, requireStable, timeout);
    } catch (OffsetStoreException e) {
      throw new OffsetStoreException(describe() + ": " + e.getMessage(), e.getCause() != null ? e.getCause() : e);
    }
  }

  @Override
  public OptionalLong lastBatchId(String group) {
    checkGroup(group);
    ensureOpen();
    long last = readLastBatchId(group);
    GroupCommitter committer = committers.get(group);
    if (committer != null) {
      last = Math.max(last, committer.lastBatchId);
    }
    return last < 0 ? OptionalLong.empty() : OptionalLong.of(last);
  }

  /** The highest batch id in the committed metadata and the history topic, or -1. */
  private long readLastBatchId(String group) {
    long last = -1;
    for (OffsetAndMetadata om : groupOffsets(group).values()) {
      OptionalLong id = CommitCodec.batchIdOfKafkaMetadata(om.metadata());
      if (id.isPresent()) {
        last = Math.max(last, id.getAsLong());
      }
    }
    List<BatchCommit> newest = history(group, 1);
    if (!newest.isEmpty()) {
      last = Math.max(last, newest.get(0).batchId());
    }
    return last;
  }

  @Override
  public List<BatchCommit> history(String group, int limit) {
    checkGroup(group);
    checkLimit(limit);
    ensureOpen();
    if (!historyTopicExists(false)) {
      return List.of();
    }
    synchronized (historyLock) {
      try {
        return readHistory(group, limit);
      } catch (OffsetStoreException e) {
        throw e;
      } catch (Exception e) {
        throw failure("read the history of group '" + group + "' from topic " + historyTopic, e);
      }
    }
  }

  @Override
  public Optional<BatchCommit> batch(String group, long batchId) {
    return history(group, Integer.MAX_VALUE).stream().filter(c -> c.batchId() == batchId).findFirst();
  }

  /** Reads the group's history partition backwards in growing chunks until {@code limit} are found. */
  private List<BatchCommit> readHistory(String group, int limit) {
    KafkaConsumer<byte[], byte[]> consumer = historyConsumer();
    TopicPartition tp = new TopicPartition(historyTopic, historyPartition(group));
    consumer.assign(List.of(tp));
    long begin = consumer.beginningOffsets(List.of(tp), timeout).get(tp);
    long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
    List<BatchCommit> found = new ArrayList<>();
    long upper = end;
    long chunk = 256;
    while (found.size() < limit && upper > begin) {
      long lower = Math.max(begin, upper - chunk);
      List<BatchCommit> inChunk = readRange(consumer, tp, lower, upper, group);
      Collections.reverse(inChunk);
      found.addAll(inChunk);
      upper = lower;
      chunk = Math.min(chunk * 2, 65_536);
    }
    found.sort(Comparator.comparingLong(BatchCommit::batchId).reversed());
    return found.size() > limit ? List.copyOf(found.subList(0, limit)) : found;
  }

  private List<BatchCommit> readRange(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long from,
      long until, String group) {
    consumer.seek(tp, from);
    byte[] key = group.getBytes(StandardCharsets.UTF_8);
    List<BatchCommit> result = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (consumer.position(tp, timeout) < until) {
      if (System.nanoTime() > deadline) {
        throw new OffsetStoreException(describe() + ": reading the history topic " + historyTopic
            + " did not reach offset " + until + " within " + timeout.toMillis() + " ms");
      }
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (r.offset() < until && java.util.Arrays.equals(r.key(), key) && r.value() != null) {
          result.add(parse(r));
        }
      }
    }
    return result;
  }

  private BatchCommit parse(ConsumerRecord<byte[], byte[]> r) {
    try {
      return CommitCodec.fromBytes(r.value(), describe() + " history record " + r.topic() + "-" + r.partition()
          + "@" + r.offset());
    } catch (IllegalArgumentException e) {
      throw new OffsetStoreException(e.getMessage(), e);
    }
  }

  private KafkaConsumer<byte[], byte[]> historyConsumer() {
    if (historyConsumer == null) {
      Map<String, Object> config = new HashMap<>(clientConfig);
      config.remove(ConsumerConfig.GROUP_ID_CONFIG);
      config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
      config.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-offsets-history");
      historyConsumer = new KafkaConsumer<>(config);
    }
    return historyConsumer;
  }

  private int historyPartition(String group) {
    return (group.hashCode() & 0x7fffffff) % historyPartitions;
  }

  /** Whether the history topic exists, creating it when {@code create}; caches the partition count. */
  private boolean historyTopicExists(boolean create) {
    if (historyPartitions > 0) {
      return true;
    }
    try {
      TopicDescription d = admin.describeTopics(List.of(historyTopic)).allTopicNames()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(historyTopic);
      historyPartitions = d.partitions().size();
      return true;
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
        throw failure("describe the history topic " + historyTopic, e.getCause());
      }
    } catch (Exception e) {
      throw failure("describe the history topic " + historyTopic, e);
    }
    if (!create) {
      return false;
    }
    NewTopic topic = new NewTopic(historyTopic, Optional.of(1), historyReplicationFactor).configs(Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
        TopicConfig.RETENTION_MS_CONFIG, Long.toString(historyRetention.toMillis())));
    try {
      admin.createTopics(List.of(topic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw failure("create the history topic " + historyTopic, e.getCause());
      }
    } catch (Exception e) {
      throw failure("create the history topic " + historyTopic, e);
    }
    return historyTopicExists(false);
  }

  // ---- commits

  @Override
  protected void doCommit(BatchCommit commit, boolean fenceOffsets) {
    historyTopicExists(true);
    GroupCommitter committer = committers.computeIfAbsent(commit.group(), GroupCommitter::new);
    committer.commit(commit, fenceOffsets);
  }

  @Override
  public void claim(String group) {
    Objects.requireNonNull(group, "group must not be null");
    historyTopicExists(true);
    committers.computeIfAbsent(group, GroupCommitter::new).claim();
  }

  /** The transactional producer of one group and the last batch id it knows. */
  private final class GroupCommitter {
    private final String group;
    private final ReentrantLock lock = new ReentrantLock();
    private KafkaProducer<byte[], byte[]> producer; // guarded by lock
    private boolean fenced; // guarded by lock
    private volatile long lastBatchId = -1;

    GroupCommitter(String group) {
      this.group = group;
    }

    /** Starts the producer now: fences older committers and aborts their open transaction. */
    void claim() {
      lock.lock();
      try {
        if (producer == null && !fenced) {
          start();
        }
      } finally {
        lock.unlock();
      }
    }

    void commit(BatchCommit commit, boolean fenceOffsets) {
      lock.lock();
      try {
        if (fenced) {
          throw fencedFailure(commit, null);
        }
        if (producer == null) {
          start();
        }
        if (commit.batchId() <= lastBatchId) {
          throw new StaleBatchException(group, commit.batchId(), lastBatchId);
        }
        send(commit, fenceOffsets);
        lastBatchId = commit.batchId();
      } finally {
        lock.unlock();
      }
    }

    private void start() {
      Map<String, Object> config = new HashMap<>(clientConfig);
      config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalIdPrefix + group);
      config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      config.put(ProducerConfig.ACKS_CONFIG, "all");
      config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
      config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
      config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
      config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "sluice-offsets-" + group);
      KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(config);
      try {
        // Fence first, then read: a committer that started before us can no longer commit.
        p.initTransactions();
        lastBatchId = Math.max(lastBatchId, readLastBatchId(group));
      } catch (RuntimeException e) {
        p.close(Duration.ZERO);
        throw e instanceof OffsetStoreException ose ? ose
            : failure("start the transactional producer of group '" + group + "'", e);
      }
      producer = p;
    }

    /**
     * One transaction: the offset check, the history record, the offsets. Errors are classified
     * once: {@link ProducerFencedException} (another producer took the transactional id) fences this
     * committer for good; everything else, {@link InvalidProducerEpochException} included (Kafka
     * documents it as abortable), aborts the transaction and leaves the committer usable.
     */
    private void send(BatchCommit commit, boolean fenceOffsets) {
      Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
      String metadata = CommitCodec.kafkaMetadata(commit.batchId(), commit.batchTime());
      for (OffsetRange r : commit.ranges()) {
        offsets.put(r.topicPartition(), new OffsetAndMetadata(r.untilOffset(), metadata));
      }
      try {
        producer.beginTransaction();
        if (fenceOffsets) {
          checkStoredOffsets(commit);
        }
        producer.send(new ProducerRecord<>(historyTopic, historyPartition(group),
            group.getBytes(StandardCharsets.UTF_8), CommitCodec.toBytes(commit)));
        if (!offsets.isEmpty()) {
          producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(group));
        }
        hook.midway(commit);
        producer.commitTransaction();
      } catch (OffsetFencedException e) {
        abort(e);
        throw e;
      } catch (Exception e) {
        if (isFenced(e)) {
          fence();
          throw fencedFailure(commit, e);
        }
        abort(e);
        throw new OffsetStoreException(describe() + ": commit of batch " + commit.batchId() + " of group '" + group
            + "' failed and its transaction was aborted: " + e, e);
      }
      awaitStable(group, offsets);
    }

    /**
     * Compares the ranges with the group's committed offsets as the broker holds them now. Read
     * from the group, not from memory: tools outside Sluice ({@code kafka-consumer-groups
     * --reset-offsets}) move the group without our transactional id. Kafka offers no conditional
     * offset commit, so a change by such a tool between this read and the commit is not caught; a
     * Sluice reset is, since it takes the transactional id and fences this producer.
     */
    private void checkStoredOffsets(BatchCommit commit) {
      Map<TopicPartition, Long> stored = new HashMap<>();
      groupOffsets(group).forEach((tp, om) -> stored.put(tp, om.offset()));
      checkOffsets(commit, stored);
    }

    private void abort(Exception cause) {
      if (producer == null) {
        return;
      }
      try {
        producer.abortTransaction();
      } catch (KafkaException e) {
        cause.addSuppressed(e);
        if (isFenced(e)) {
          fence();
        } else {
          // The producer is unusable; the next commit starts (and fences with) a new one.
          producer.close(Duration.ZERO);
          producer = null;
        }
      }
    }

    private void fence() {
      fenced = true;
      producer.close(Duration.ZERO);
      producer = null;
    }

    private OffsetStoreException fencedFailure(BatchCommit commit, Exception cause) {
      // A reset (sluice offsets reset/import) takes the transactional id and moves the offsets: say so by offsets.
      try {
        checkStoredOffsets(commit);
      } catch (OffsetFencedException moved) {
        if (cause != null) {
          moved.addSuppressed(cause);
        }
        return moved;
      } catch (RuntimeException unreadable) {
        // fall back to what the batch ids tell
      }
      long now;
      try {
        now = readLastBatchId(group);
      } catch (RuntimeException e) {
        now = -1;
      }
      if (now >= commit.batchId()) {
        return new StaleBatchException(group, commit.batchId(), now);
      }
      return new OffsetStoreException(describe() + ": batch " + commit.batchId() + " of group '" + group
          + "' refused: another committer took over this group (transactional id " + transactionalIdPrefix + group
          + ": another driver, or a reset by sluice offsets reset/import); this store can no longer commit for"
          + " it. Stop the other driver; a restart continues from the committed position", cause);
    }

    void close() {
      lock.lock();
      try {
        if (producer != null) {
          producer.close(timeout);
          producer = null;
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /** Whether {@code e} or a cause says that another producer took the transactional id. */
  private static boolean isFenced(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException) {
        return true;
      }
    }
    return false;
  }

  private OffsetStoreException failure(String what, Throwable e) {
    if (e instanceof OffsetStoreException ose) {
      return ose;
    }
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    String reason = e instanceof TimeoutException || e instanceof org.apache.kafka.common.errors.TimeoutException
        ? "no answer within " + timeout.toMillis() + " ms (is the broker reachable?)"
        : e.toString();
    return new OffsetStoreException(describe() + ": cannot " + what + ": " + reason, e);
  }

  @Override
  protected void doClose() {
    committers.values().forEach(GroupCommitter::close);
    synchronized (historyLock) {
      if (historyConsumer != null) {
        historyConsumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(timeout));
      }
    }
    admin.close(timeout);
  }
}
