package io.sluice.offsets.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import io.sluice.offsets.TransactionalProducer;
import io.sluice.offsets.TransactionalProducerException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka store: offsets in the consumer group ({@code __consumer_offsets}), so that {@code
 * kafka-consumer-groups} shows the stream's lag, and the batch history in a topic.
 *
 * <p>A commit is one transaction of the group's {@link TransactionalProducer} (the one owner of
 * transactional producers, shared with the Kafka sink), whose {@code transactional.id} is derived
 * from the group: it appends the commit to the history topic and sends the offsets, with {@code
 * sluice:v1:batch=<id>;time=<instant>} as each partition's metadata, to the transaction; the
 * transaction coordinator makes both visible together or not at all. Starting a producer with the
 * same transactional id (another driver, or {@code sluice offsets reset}) fences this one: its next
 * commit fails, so a zombie driver cannot move the group. Inside every commit's transaction the
 * group's stable offsets are read from the broker ({@link KafkaGroupOffsets}) and both checks run
 * on that read: the batch id against the highest one in the group's metadata and the last one this
 * committer wrote or found in the history topic when it started (an empty batch leaves its id in
 * the history only), then the ranges against the offsets, because tools outside Sluice move a group
 * without the transactional id.
 *
 * <p>The history topic is compacted. A commit's record is keyed {@code <group>#<batchId>}, and the
 * commit that takes the group's history past {@code historyRetention} batches adds, in the same
 * transaction, a tombstone for every batch that falls out. A read skips a batch whose tombstone it
 * has met (it reads backwards, so it meets the tombstone first): the history holds exactly the
 * newest {@code historyRetention} batches at once, and the log cleaner later removes the records.
 *
 * <p>Thread-safe: commits of one group serialise on a lock; history reads share one consumer under
 * another lock.
 */
public final class KafkaOffsetStore extends AbstractOffsetStore {

  private final Map<String, Object> clientConfig;
  private final String bootstrapServers;
  private final String historyTopic;
  private final Optional<Short> historyReplicationFactor;
  private final int historyRetention;
  private final String transactionalIdPrefix;
  private final Duration timeout;
  private final CommitHook hook;
  private final Admin admin;
  private final Map<String, GroupCommitter> committers = new ConcurrentHashMap<>();
  private final Object historyLock = new Object();
  private KafkaConsumer<byte[], byte[]> historyConsumer; // guarded by historyLock
  private volatile int historyPartitions = -1;

  /** Creates the store; nothing connects until the first call. */
  public KafkaOffsetStore(
      Map<String, Object> clientConfig,
      String historyTopic,
      Optional<Short> historyReplicationFactor,
      int historyRetention,
      String transactionalIdPrefix,
      Duration timeout,
      Clock clock,
      CommitHook hook) {
    super(clock);
    this.clientConfig = Map.copyOf(clientConfig);
    this.bootstrapServers =
        String.valueOf(clientConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
    this.historyTopic = historyTopic;
    this.historyReplicationFactor = historyReplicationFactor;
    this.historyRetention = historyRetention;
    this.transactionalIdPrefix = transactionalIdPrefix;
    this.timeout = timeout;
    this.hook = hook;
    Map<String, Object> adminConfig = new HashMap<>(this.clientConfig);
    adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    adminConfig.put(
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
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
        .sorted(
            Map.Entry.comparingByKey(
                Comparator.comparing(TopicPartition::topic)
                    .thenComparingInt(TopicPartition::partition)))
        .forEach(e -> result.put(e.getKey(), e.getValue().offset()));
    return result;
  }

  /** The group's stable offsets (see {@link KafkaGroupOffsets#readStable}). */
  private Map<TopicPartition, OffsetAndMetadata> groupOffsets(String group) {
    try {
      return KafkaGroupOffsets.readStable(admin, group, timeout);
    } catch (OffsetStoreException e) {
      throw new OffsetStoreException(
          describe() + ": " + e.getMessage(), e.getCause() != null ? e.getCause() : e);
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

  /**
   * Waits until the commit's offsets are readable as stable, so that a commit reads its own writes.
   */
  private void awaitStable(String group, BatchCommit commit) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<TopicPartition, OffsetAndMetadata> stable = readGroupOffsets(group, true);
      boolean visible =
          commit.ranges().stream()
              .allMatch(
                  r ->
                      stable.get(r.topicPartition()) != null
                          && stable.get(r.topicPartition()).offset() == r.untilOffset());
      if (visible) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new OffsetStoreException(
            describe()
                + ": committed offsets of group '"
                + group
                + "' did not become readable within "
                + timeout.toMillis()
                + " ms");
      }
      pause();
    }
  }

  private Map<TopicPartition, OffsetAndMetadata> readGroupOffsets(
      String group, boolean requireStable) {
    try {
      return KafkaGroupOffsets.read(admin, group, requireStable, timeout);
    } catch (OffsetStoreException e) {
      throw new OffsetStoreException(
          describe() + ": " + e.getMessage(), e.getCause() != null ? e.getCause() : e);
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
    long last = KafkaGroupOffsets.lastBatchId(groupOffsets(group)).orElse(-1);
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
    return history(group, Integer.MAX_VALUE).stream()
        .filter(c -> c.batchId() == batchId)
        .findFirst();
  }

  /**
   * Reads the group's history partition backwards in growing chunks until {@code limit} are found;
   * a batch whose tombstone comes later in the log is skipped.
   */
  private List<BatchCommit> readHistory(String group, int limit) {
    KafkaConsumer<byte[], byte[]> consumer = historyConsumer();
    TopicPartition tp = new TopicPartition(historyTopic, historyPartition(group));
    consumer.assign(List.of(tp));
    long begin = consumer.beginningOffsets(List.of(tp), timeout).get(tp);
    long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
    List<BatchCommit> found = new ArrayList<>();
    Set<Long> deleted = new HashSet<>();
    long upper = end;
    long chunk = 256;
    while (found.size() < limit && upper > begin) {
      long lower = Math.max(begin, upper - chunk);
      List<HistoryEntry> inChunk = readRange(consumer, tp, lower, upper, group);
      Collections.reverse(inChunk);
      for (HistoryEntry e : inChunk) {
        if (e.commit() == null) {
          deleted.add(e.batchId());
        } else if (!deleted.contains(e.batchId())) {
          found.add(e.commit());
        }
      }
      upper = lower;
      chunk = Math.min(chunk * 2, 65_536);
    }
    found.sort(Comparator.comparingLong(BatchCommit::batchId).reversed());
    return found.size() > limit ? List.copyOf(found.subList(0, limit)) : found;
  }

  /** One record of a group's history: a commit, or the tombstone ({@code commit} null) of one. */
  private record HistoryEntry(long batchId, BatchCommit commit) {}

  /** The group's records in {@code [from, until)}, in log order. */
  private List<HistoryEntry> readRange(
      KafkaConsumer<byte[], byte[]> consumer,
      TopicPartition tp,
      long from,
      long until,
      String group) {
    consumer.seek(tp, from);
    List<HistoryEntry> result = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (consumer.position(tp, timeout) < until) {
      if (System.nanoTime() > deadline) {
        throw new OffsetStoreException(
            describe()
                + ": reading the history topic "
                + historyTopic
                + " did not reach offset "
                + until
                + " within "
                + timeout.toMillis()
                + " ms");
      }
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (r.offset() >= until) {
          continue;
        }
        OptionalLong batchId = batchIdOfKey(r.key(), group);
        if (batchId.isPresent()) {
          result.add(new HistoryEntry(batchId.getAsLong(), r.value() == null ? null : parse(r)));
        }
      }
    }
    return result;
  }

  /** The key of batch {@code batchId}'s record in the history topic: {@code <group>#<batchId>}. */
  private static byte[] historyKey(String group, long batchId) {
    return (group + "#" + batchId).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The batch id of a history record's key when the key is {@code group}'s, else empty. The id is
   * what follows the last {@code #}, so a group whose name contains {@code #} is still told apart.
   */
  private static OptionalLong batchIdOfKey(byte[] key, String group) {
    if (key == null) {
      return OptionalLong.empty();
    }
    String k = new String(key, StandardCharsets.UTF_8);
    int hash = k.lastIndexOf('#');
    if (hash < 0 || !k.substring(0, hash).equals(group)) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(k.substring(hash + 1)));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private BatchCommit parse(ConsumerRecord<byte[], byte[]> r) {
    try {
      return CommitCodec.fromBytes(
          r.value(),
          describe() + " history record " + r.topic() + "-" + r.partition() + "@" + r.offset());
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

  /**
   * Whether the history topic exists, creating it when {@code create}; caches the partition count.
   */
  private boolean historyTopicExists(boolean create) {
    if (historyPartitions > 0) {
      return true;
    }
    try {
      TopicDescription d =
          admin
              .describeTopics(List.of(historyTopic))
              .allTopicNames()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .get(historyTopic);
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
    NewTopic topic =
        new NewTopic(historyTopic, Optional.of(1), historyReplicationFactor)
            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
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

  /**
   * One group's committer: its {@link TransactionalProducer} (transactional id {@code
   * <prefix><group>}), the last batch id it committed or found in the history when it started, and
   * the ids of the batches the group's history holds, to tombstone those that fall out of it.
   */
  private final class GroupCommitter {
    private final String group;
    private final ReentrantLock lock = new ReentrantLock();
    private TransactionalProducer<byte[], byte[]>
        producer; // guarded by lock; kept once fenced, to refuse
    private volatile long lastBatchId = -1;
    private final Deque<Long> retained = new ArrayDeque<>(); // ascending; guarded by lock

    GroupCommitter(String group) {
      this.group = group;
    }

    /** Starts the producer now: fences older committers and aborts their open transaction. */
    void claim() {
      lock.lock();
      try {
        if (producer == null) {
          start();
        }
      } finally {
        lock.unlock();
      }
    }

    void commit(BatchCommit commit, boolean fenceOffsets) {
      lock.lock();
      try {
        if (producer != null && producer.fenced()) {
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
      config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
      config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "sluice-offsets-" + group);
      TransactionalProducer<byte[], byte[]> p;
      try {
        p =
            TransactionalProducer.start(
                transactionalIdPrefix + group,
                config,
                new ByteArraySerializer(),
                new ByteArraySerializer(),
                admin,
                timeout);
      } catch (TransactionalProducerException e) {
        throw failure("start the transactional producer of group '" + group + "'", e.getCause());
      }
      try {
        // Fenced first, then read: a committer that started before us can no longer commit.
        lastBatchId = Math.max(lastBatchId, readLastBatchId(group));
        retained.clear();
        history(group, Integer.MAX_VALUE).forEach(c -> retained.addFirst(c.batchId()));
      } catch (RuntimeException e) {
        p.close(Duration.ZERO);
        throw failure("start the transactional producer of group '" + group + "'", e);
      }
      producer = p;
    }

    /**
     * One transaction: the history record and the tombstones of the batches it pushes out of the
     * history, then the group check and the offsets, then the commit.
     */
    private void send(BatchCommit commit, boolean fenceOffsets) {
      List<Long> dropped = new ArrayList<>();
      Iterator<Long> oldestFirst = retained.iterator();
      for (int excess = retained.size() + 1 - historyRetention; excess > 0; excess--) {
        dropped.add(oldestFirst.next());
      }
      try {
        producer.begin();
        producer.send(historyRecord(commit.batchId(), CommitCodec.toBytes(commit)), null);
        for (long id : dropped) {
          producer.send(historyRecord(id, null), null);
        }
        hook.midway(commit);
        producer.commit(List.of(commit), (c, stored) -> checkGroup(c, stored, fenceOffsets));
      } catch (Exception e) {
        producer.abort(e);
        throw commitFailure(commit, e);
      }
      retained.addLast(commit.batchId());
      retained.removeAll(dropped);
      awaitStable(group, commit);
    }

    /** The history record of batch {@code batchId}; a null {@code value} is its tombstone. */
    private ProducerRecord<byte[], byte[]> historyRecord(long batchId, byte[] value) {
      return new ProducerRecord<>(
          historyTopic, historyPartition(group), historyKey(group, batchId), value);
    }

    /**
     * Refuses a batch id the group already holds (in its offsets' metadata, or committed here),
     * then, when {@code fenceOffsets}, ranges that do not begin where the group stands. Runs inside
     * the transaction on the group's offsets as the broker holds them now, not as remembered: tools
     * outside Sluice ({@code kafka-consumer-groups --reset-offsets}) move the group without our
     * transactional id. Kafka offers no conditional offset commit, so a change by such a tool
     * between this read and the commit is not caught; a Sluice reset is, since it takes the
     * transactional id and fences this producer.
     */
    private void checkGroup(
        BatchCommit commit, Map<TopicPartition, OffsetAndMetadata> stored, boolean fenceOffsets) {
      long held = Math.max(lastBatchId, KafkaGroupOffsets.lastBatchId(stored).orElse(-1));
      if (commit.batchId() <= held) {
        throw new StaleBatchException(group, commit.batchId(), held);
      }
      if (fenceOffsets) {
        TransactionalProducer.GroupCheck.rangesStartAt(describe()).check(commit, stored);
      }
    }

    /** What a failed commit throws; the producer has ended the transaction. */
    private OffsetStoreException commitFailure(BatchCommit commit, Exception e) {
      if (producer.fenced()) {
        return e instanceof OffsetFencedException moved ? moved : fencedFailure(commit, e);
      }
      if (e instanceof OffsetFencedException || e instanceof StaleBatchException) {
        return (OffsetStoreException) e;
      }
      String what =
          describe() + ": commit of batch " + commit.batchId() + " of group '" + group + "' failed";
      return e instanceof TransactionalProducerException t
          ? new OffsetStoreException(what + ": " + t.getMessage(), t)
          : new OffsetStoreException(what + " and its transaction was aborted: " + e, e);
    }

    private OffsetStoreException fencedFailure(BatchCommit commit, Exception cause) {
      // A reset (sluice offsets reset/import) takes the transactional id and moves the offsets: say
      // so by offsets.
      try {
        TransactionalProducer.GroupCheck.rangesStartAt(describe())
            .check(commit, groupOffsets(group));
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
      return new OffsetStoreException(
          describe()
              + ": batch "
              + commit.batchId()
              + " of group '"
              + group
              + "' refused: another committer took over this group (transactional id "
              + transactionalIdPrefix
              + group
              + ": another driver, or a reset by sluice offsets reset/import); this store can no longer commit for"
              + " it. Stop the other driver; a restart continues from the committed position",
          cause);
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

  private OffsetStoreException failure(String what, Throwable e) {
    if (e instanceof OffsetStoreException ose) {
      return ose;
    }
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    String reason =
        e instanceof TimeoutException
                || e instanceof org.apache.kafka.common.errors.TimeoutException
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
