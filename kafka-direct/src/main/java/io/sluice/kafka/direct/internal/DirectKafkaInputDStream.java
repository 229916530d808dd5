package io.sluice.kafka.direct.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.kafka.direct.CanCommitOffsets;
import io.sluice.kafka.direct.ConsumerStrategy;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StaleBatchException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka direct stream: every batch pins one offset range per partition (planned by
 * {@link DirectPlanner} on the driver) into a {@link KafkaRDDImpl}; after the batch's outputs
 * succeeded, commits the ranges to the offset store, or to the Kafka consumer group when there is
 * no store. Thread contract as in {@link InputDStream}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class DirectKafkaInputDStream<K, V> extends InputDStream<ConsumerRecord<K, V>, KafkaBatchPlan>
    implements CanCommitOffsets {

  private static final Logger log = LoggerFactory.getLogger(DirectKafkaInputDStream.class);

  private final ConsumerStrategy<K, V> strategy;
  private final DirectStreamOptions options;
  private final String group;
  private final KafkaMetrics metrics;
  private final ReadSupport support;
  private final ConcurrentLinkedQueue<OffsetRange> commitQueue = new ConcurrentLinkedQueue<>();
  private DirectPlanner planner;
  private volatile boolean exhausted;
  private volatile String lastCommitMetadata = "";
  private boolean stopped;

  /** Registers the stream with {@code ctx}; connects to nothing before the first plan. */
  public DirectKafkaInputDStream(StreamingContext ctx, ConsumerStrategy<K, V> strategy, DirectStreamOptions options) {
    super(ctx, options.name().orElseGet(() -> "kafka-" + requireGroup(strategy)), KafkaBatchPlan.class);
    this.strategy = strategy;
    this.options = options;
    this.group = requireGroup(strategy);
    this.metrics = new KafkaMetrics(ctx.meterRegistry(), name());
    Map<String, Object> params = strategy.kafkaParams();
    boolean deserializes = KafkaParams.consumerCanDeserialize(params, options.errorPolicy());
    Map<String, Object> consumerConfig = KafkaParams.taskConsumer(params, deserializes);
    ConsumerCache cache = new ConsumerCache(() -> new KafkaConsumer<>(consumerConfig),
        options.dataLossPolicy(), options.consumerIdleTimeout(), true);
    DeadLetterSender dlq = options.errorPolicy() instanceof ErrorPolicy.DeadLetter d
        ? new DeadLetterSender(d.topic(), KafkaParams.deadLetterProducer(params, d.producerConfig())) : null;
    this.support = new ReadSupport(params, cache, deserializes, options.errorPolicy(), dlq, options.pollTimeout(), metrics);
  }

  private static String requireGroup(ConsumerStrategy<?, ?> strategy) {
    String g = KafkaParams.group(strategy.kafkaParams());
    if (g == null) {
      throw new IllegalArgumentException("kafkaParams must set group.id (the stream's consumer group and offset store"
          + " key) for " + strategy.describe());
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
    // Fail start within the poll timeout, naming the cause, rather than let the first batches block for minutes.
    planner().checkCluster();
    if (support.deadLetters() != null) {
      support.deadLetters().checkTopic(options.pollTimeout());
    }
    // Before any read of the group: fence a previous run's committer and abort what it left open.
    options.offsetStore().ifPresent(store -> store.claim(group));
    planner();
  }

  @Override
  public KafkaBatchPlan plan(long batchId, Instant batchTime) {
    support.cache().evictIdle();
    return planner().plan();
  }

  @Override
  public RDD<ConsumerRecord<K, V>> compute(long batchId, Instant batchTime, KafkaBatchPlan plan) {
    return new KafkaRDDImpl<>(context(), plan.ranges(), support);
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

  @Override
  public void commit(Batch batch, KafkaBatchPlan plan) {
    // The batch id travels in the metadata, as the Kafka offset store and the Kafka sink write it, so
    // a restart continues the ids after it and a transactional sink recognises a batch already done.
    String metadata = KafkaCommitMetadata.encode(batch.id(), batch.time());
    lastCommitMetadata = metadata;
    flushCommitQueue(metadata);
    OffsetStore store = options.offsetStore().orElse(null);
    if (store != null) {
      try {
        store.commit(new BatchCommit(group, batch.id(), batch.time(), plan.ranges()));
      } catch (StaleBatchException e) {
        if (e.lastCommittedBatchId() != batch.id()) {
          throw e;
        }
        log.debug("batch {} of {} was already committed to {}", batch.id(), group, store.describe());
      }
    } else {
      planner().driver().commit(untils(plan.ranges()), metadata);
    }
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
      planner().driver().commit(offsets, metadata);
    }
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
  public OptionalLong lastCommittedBatchId() {
    Optional<OffsetStore> store = options.offsetStore();
    if (store.isPresent()) {
      return store.get().lastBatchId(group);
    }
    return KafkaParams.lastBatchIdOfGroup(strategy.kafkaParams(), group, options.pollTimeout());
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
