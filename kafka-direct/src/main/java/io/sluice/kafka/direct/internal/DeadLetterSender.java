package io.sluice.kafka.direct.internal;

import io.sluice.engine.TerminalException;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.kafka.direct.StreamStartException;
import io.sluice.offsets.DeadLetterTransaction;
import io.sluice.offsets.KafkaGroupOffsets;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a stream's bad records to its dead-letter topic, in one of two ways decided at start:
 *
 * <ul>
 *   <li><b>sent</b> (the default, at-least-once): one idempotent producer shared by the stream's
 *       tasks (Kafka's producer is thread-safe), created on first use and closed by {@link
 *       #close()}; a retried task or a replayed batch sends a letter again, and a reader dedupes on
 *       the source position headers;
 *   <li><b>in the batch's transaction</b> (exactly-once), after {@link #deferTo}: letters are kept
 *       per batch, one per source record, and the exactly-once output that commits the stream's
 *       offsets takes and writes them inside the batch's transaction.
 * </ul>
 *
 * {@link #checkTopic} at stream start and {@link #failure} in tasks make a missing topic fail at
 * once, instead of each bad record blocking a task for the producer's {@code max.block.ms}.
 */
public final class DeadLetterSender implements AutoCloseable {

  /** Header names added to every dead letter. */
  public static final String H_TOPIC = "sluice.dlq.topic";

  /** The source partition header. */
  public static final String H_PARTITION = "sluice.dlq.partition";

  /** The source offset header. */
  public static final String H_OFFSET = "sluice.dlq.offset";

  /**
   * Header: the id of the batch whose plan holds the bad record (absent outside a batch). With the
   * source topic, partition and offset it identifies a dead letter: sent ones are at-least-once (a
   * retried task or a replayed batch sends them again), so a reader dedupes on the source position.
   */
  public static final String H_BATCH = "sluice.dlq.batch";

  /** The exception class header. */
  public static final String H_EXCEPTION_CLASS = "sluice.dlq.exception.class";

  /** The exception message header. */
  public static final String H_EXCEPTION_MESSAGE = "sluice.dlq.exception.message";

  private static final Logger log = LoggerFactory.getLogger(DeadLetterSender.class);

  /**
   * Pending dead letters belong to tasks that did not complete (a task flushes its own before it
   * succeeds), so their records are read again; waiting long for them only delays a stop.
   */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private final String topic;
  private final Map<String, Object> producerConfig;
  private Producer<byte[], byte[]> producer;
  private boolean closed;
  private volatile BatchLetters deferred;

  /** Creates the sender; nothing connects before the first dead letter. */
  public DeadLetterSender(String topic, Map<String, Object> producerConfig) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.producerConfig = Map.copyOf(producerConfig);
  }

  /** The dead-letter topic. */
  public String topic() {
    return topic;
  }

  /**
   * The Kafka cluster of the dead-letter topic, as {@link KafkaGroupOffsets#clusterKey} names it.
   */
  public String clusterKey() {
    return KafkaGroupOffsets.clusterKey(KafkaParams.bootstrapServers(producerConfig));
  }

  /**
   * From now on keeps the letters of each batch for the exactly-once output that commits the
   * stream's offsets, instead of sending them; call before the first batch. Letters are kept by the
   * batch whose plan holds their record, and written with that batch: {@code ensureDecoded} reads
   * the ranges of a batch that no job decoded before the batch commits.
   *
   * @return the source that output takes each batch's letters from
   */
  public DeadLetterTransaction.Source deferTo(String output, LongConsumer ensureDecoded) {
    BatchLetters letters = new BatchLetters(ensureDecoded);
    deferred = letters;
    log.info(
        "dead letters to {} are written inside the transactions of {} (exactly-once)",
        topic,
        output);
    return letters;
  }

  /**
   * Sends, and waits for, the letters kept for batch {@code batchId} that no transaction took: the
   * batch is committed by the stream itself because the output that commits its offsets had no job
   * in it. At-least-once, like every sent letter. Does nothing unless letters are deferred.
   *
   * @throws RuntimeException as {@link #failure} when a letter cannot be written; the batch fails
   */
  public void sendDeferred(long batchId) {
    BatchLetters letters = deferred;
    if (letters == null) {
      return;
    }
    List<Future<RecordMetadata>> sent = new java.util.ArrayList<>();
    for (ProducerRecord<byte[], byte[]> letter : letters.take(batchId)) {
      sent.add(producer().send(letter));
    }
    for (Future<RecordMetadata> f : sent) {
      try {
        f.get();
      } catch (ExecutionException e) {
        throw failure(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException("interrupted while sending dead letters to " + topic, e);
      }
    }
  }

  /** Records that a task decoded {@code partition}'s range of batch {@code batchId} to its end. */
  public void markDecoded(long batchId, TopicPartition partition) {
    BatchLetters letters = deferred;
    if (letters != null && batchId >= 0) {
      letters.markDecoded(batchId, partition);
    }
  }

  /** The partitions of batch {@code batchId} whose ranges were decoded to the end. */
  public Set<TopicPartition> decoded(long batchId) {
    BatchLetters letters = deferred;
    return letters == null ? Set.of() : letters.decoded(batchId);
  }

  /** Whether letters wait for the committing output's transaction (see {@link #deferTo}). */
  public boolean deferred() {
    return deferred != null;
  }

  /**
   * Writes {@code raw} with its original headers plus the error headers: sent at once, or kept for
   * the transaction of batch {@code batchId} after {@link #deferTo}. Non-blocking.
   *
   * @param batchId the batch whose plan holds {@code raw}, or -1 outside a stream batch (then the
   *     letter is always sent, naming the running task's batch if any)
   * @return the send, complete at once when the letter is kept for a transaction
   */
  public Future<RecordMetadata> send(
      ConsumerRecord<ByteBuffer, ByteBuffer> raw, Throwable error, long batchId) {
    long batch =
        batchId >= 0 ? batchId : TaskContext.current().map(TaskContext::batchId).orElse(-1L);
    Headers headers = new RecordHeaders(raw.headers().toArray());
    headers.add(H_TOPIC, utf8(raw.topic()));
    headers.add(H_PARTITION, utf8(Integer.toString(raw.partition())));
    headers.add(H_OFFSET, utf8(Long.toString(raw.offset())));
    if (batch >= 0) {
      headers.add(H_BATCH, utf8(Long.toString(batch)));
    }
    headers.add(H_EXCEPTION_CLASS, utf8(error.getClass().getName()));
    headers.add(H_EXCEPTION_MESSAGE, utf8(String.valueOf(error.getMessage())));
    ProducerRecord<byte[], byte[]> letter =
        new ProducerRecord<>(
            topic, null, raw.timestamp(), bytes(raw.key()), bytes(raw.value()), headers);
    BatchLetters letters = deferred;
    if (letters != null && batchId >= 0) {
      letters.add(batchId, new TopicPartition(raw.topic(), raw.partition()), raw.offset(), letter);
      return CompletableFuture.completedFuture(null);
    }
    return producer().send(letter);
  }

  private static byte[] bytes(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    byte[] out = new byte[b.remaining()];
    b.get(b.position(), out);
    return out;
  }

  /** Blocks until every dead letter sent so far is acknowledged or failed. */
  public void flush() {
    Producer<byte[], byte[]> p;
    synchronized (this) {
      p = producer;
    }
    if (p != null) {
      p.flush();
    }
  }

  private synchronized Producer<byte[], byte[]> producer() {
    if (closed) {
      throw new IllegalStateException(
          "the dead-letter producer for " + topic + " is closed (the stream stopped)");
    }
    if (producer == null) {
      producer = new KafkaProducer<>(producerConfig);
    }
    return producer;
  }

  /**
   * Checks that the topic exists, or that its cluster creates topics on first use ({@code
   * auto.create.topics.enable}), with calls that give up after {@code timeout}. A topic the stream
   * may not describe passes with a warning. Blocking; any thread.
   *
   * @throws StreamStartException when the topic does not exist or the cluster does not answer
   */
  public void checkTopic(Duration timeout) {
    Admin admin = Admin.create(KafkaParams.boundedAdmin(producerConfig, timeout));
    try {
      admin.describeTopics(List.of(topic)).topicNameValues().get(topic).get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof UnknownTopicOrPartitionException) {
        if (!createsTopicsOnFirstUse(admin)) {
          throw new StreamStartException(
              missing()
                  + "; create it before starting the stream (the cluster does not"
                  + " create topics on first use)",
              cause,
              false);
        }
        log.info(
            "dead-letter topic {} does not exist yet; the cluster at {} creates it with the first dead letter",
            topic,
            cluster());
      } else if (cause instanceof TopicAuthorizationException) {
        log.warn(
            "cannot check that dead-letter topic {} exists: not authorized to describe it on {}",
            topic,
            cluster());
      } else if (cause instanceof TimeoutException) {
        throw new StreamStartException(
            "cannot check dead-letter topic '"
                + topic
                + "': the cluster at "
                + cluster()
                + " did not answer within "
                + timeout.toMillis()
                + " ms (is it running, and is"
                + " bootstrap.servers right?)",
            cause,
            true);
      } else {
        throw new StreamStartException(
            "cannot check dead-letter topic '" + topic + "' on " + cluster() + ": " + cause,
            cause,
            false);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamStartException(
          "interrupted while checking dead-letter topic '" + topic + "'", e, true);
    } finally {
      admin.close(Duration.ZERO);
    }
  }

  /**
   * Whether the brokers create a topic when a producer first asks for it; false when that cannot be
   * read.
   */
  private static boolean createsTopicsOnFirstUse(Admin admin) {
    try {
      Collection<Node> nodes = admin.describeCluster().nodes().get();
      if (nodes.isEmpty()) {
        return false;
      }
      ConfigResource broker =
          new ConfigResource(ConfigResource.Type.BROKER, nodes.iterator().next().idString());
      Config config = admin.describeConfigs(List.of(broker)).values().get(broker).get();
      ConfigEntry entry = config.get("auto.create.topics.enable");
      return entry != null && Boolean.parseBoolean(entry.value());
    } catch (ExecutionException e) {
      log.debug("cannot read auto.create.topics.enable; taking it as false", e.getCause());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * The failure a task reports for a dead letter that could not be written. Terminal when the topic
   * does not exist (deleted after the stream started): no attempt of the task could succeed.
   * Otherwise the retriable {@link KafkaException}. Blocking up to the producer's {@code
   * max.block.ms}.
   */
  public RuntimeException failure(Throwable cause) {
    if ((cause instanceof TimeoutException || cause instanceof UnknownTopicOrPartitionException)
        && topicIsMissing()) {
      return new TerminalException(
          missing()
              + " (deleted after the stream started?); create it and start the"
              + " stream again",
          cause);
    }
    return new KafkaException(
        "could not write a bad record to dead-letter topic " + topic + ": " + cause, cause);
  }

  private boolean topicIsMissing() {
    Admin admin = Admin.create(KafkaParams.boundedAdmin(producerConfig, maxBlock()));
    try {
      admin.describeTopics(List.of(topic)).topicNameValues().get(topic).get();
      return false;
    } catch (ExecutionException e) {
      return e.getCause() instanceof UnknownTopicOrPartitionException;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      admin.close(Duration.ZERO);
    }
  }

  private Duration maxBlock() {
    Object v = producerConfig.get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    return v == null
        ? KafkaParams.DEAD_LETTER_MAX_BLOCK
        : Duration.ofMillis(Long.parseLong(v.toString().trim()));
  }

  private String missing() {
    return "dead-letter topic '" + topic + "' does not exist on the cluster at " + cluster();
  }

  private String cluster() {
    return "bootstrap.servers=" + KafkaParams.bootstrapServers(producerConfig);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The letters kept for the committing output's transactions: per batch, one per source position,
   * in the order first found. Task threads add, the output's job thread takes.
   */
  private static final class BatchLetters implements DeadLetterTransaction.Source {

    private record Position(TopicPartition partition, long offset) {}

    private final LongConsumer ensureDecoded;
    private final NavigableMap<Long, Map<Position, ProducerRecord<byte[], byte[]>>> byBatch =
        new TreeMap<>();
    private final NavigableMap<Long, Set<TopicPartition>> decoded = new TreeMap<>();
    private long takenThrough = -1;

    BatchLetters(LongConsumer ensureDecoded) {
      this.ensureDecoded = ensureDecoded;
    }

    synchronized void add(
        long batchId, TopicPartition partition, long offset, ProducerRecord<byte[], byte[]> r) {
      if (batchId <= takenThrough) {
        return; // that batch's letters were written, or decided, when it committed
      }
      byBatch
          .computeIfAbsent(batchId, b -> new LinkedHashMap<>())
          .putIfAbsent(new Position(partition, offset), r);
    }

    synchronized void markDecoded(long batchId, TopicPartition partition) {
      if (batchId > takenThrough) {
        decoded.computeIfAbsent(batchId, b -> new HashSet<>()).add(partition);
      }
    }

    synchronized Set<TopicPartition> decoded(long batchId) {
      return Set.copyOf(decoded.getOrDefault(batchId, Set.of()));
    }

    /**
     * The batch's letters, once every range of the batch was decoded (a range no job read in its
     * batch, e.g. a window's batch between two slides, is read now for its bad records).
     */
    @Override
    public List<ProducerRecord<byte[], byte[]>> take(long batchId) {
      ensureDecoded.accept(batchId);
      synchronized (this) {
        Map<Position, ProducerRecord<byte[], byte[]>> letters = byBatch.remove(batchId);
        byBatch.headMap(batchId, true).clear();
        decoded.headMap(batchId, true).clear();
        takenThrough = Math.max(takenThrough, batchId);
        return letters == null ? List.of() : List.copyOf(letters.values());
      }
    }
  }

  /** Closes the producer, waiting at most 2 s for dead letters still in flight; idempotent. */
  @Override
  public void close() {
    Producer<byte[], byte[]> p;
    synchronized (this) {
      closed = true;
      p = producer;
      producer = null;
    }
    if (p != null) {
      p.close(CLOSE_TIMEOUT);
    }
  }
}
