package io.sluice.kafka.receiver;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.receiver.internal.KafkaBlockReceiver;
import io.sluice.kafka.receiver.internal.KafkaReceiverStreams;
import io.sluice.kafka.receiver.internal.ReceiverParams;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetStore;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Kafka receivers, in the shape of Spark's receiver-based {@code KafkaUtils.createStream}: a group
 * consumer running inside an engine {@link io.sluice.engine.receiver.Receiver} on a task slot for
 * the context's life. Prefer the direct stream ({@code io.sluice.kafka.direct.KafkaDirect}), which
 * reads by offset range and needs no receiver; receivers are for applications built around them.
 *
 * <p>How every Kafka receiver works:
 *
 * <ul>
 *   <li>The consumer reads bytes ({@code ByteArrayDeserializer}) on a thread of its own, {@code
 *       sluice-kafka-receiver-<group>-<n>}, and gathers its polls into ONE block ({@code
 *       store(List)}; up to 50,000 records, the block interval, or until a poll returns nothing),
 *       keeping topic, partition, offset, timestamp, key and value bytes and headers exactly, so a
 *       write-ahead log holds what Kafka held. The returned stream deserializes them in the tasks
 *       with the {@code key.deserializer} and {@code value.deserializer} of {@code kafkaParams}; a
 *       record that cannot be deserialized fails the batch, with a message naming its topic,
 *       partition and offset.
 *   <li>Only after {@code store} returned are the positions the block reached committed: the
 *       consumer's {@code position(tp)}, which steps over transaction markers and compacted gaps,
 *       not last offset + 1. {@code enable.auto.commit} must be false or unset (it would commit
 *       records before they are stored); the receiver sets it false.
 *   <li>Assignment: the {@code CooperativeStickyAssignor} (under the classic group protocol, unless
 *       {@code partition.assignment.strategy} names another). When a member joins or leaves, only
 *       the partitions that move are revoked, so the other partitions keep flowing and keep their
 *       positions; with the eager protocol every member would stop, commit and re-seek all of its
 *       partitions at every rebalance. The callbacks below are correct under either.
 *   <li>Rebalances: the rebalance callbacks run inside {@code poll} on the consumer's thread, when
 *       every record polled before is stored or dropped. A revoked partition commits what its
 *       stored blocks reached and nothing else: records polled but not stored are never committed,
 *       and the next owner fetches them again. Lost partitions (this member was expelled, say after
 *       {@code max.poll.interval.ms} spent in a {@code store} held back by a rate limit) commit
 *       nothing. Closing the consumer on stop revokes its partitions the same way.
 *   <li>Failures of the consumer, a store or a commit restart the receiver (the engine backs off,
 *       200 ms doubling up to 30 s): the consumer is closed on its own thread and a new one starts
 *       from the committed positions. Blocks stored but not yet committed are then received again.
 * </ul>
 *
 * <p>Creation validates {@code topics} and {@code kafkaParams} (a {@code bootstrap.servers}, a
 * {@code group.id}, the deserializers as {@code Deserializer} classes or class names, and every
 * setting as the Kafka consumer checks it) and throws {@link IllegalArgumentException} naming the
 * bad setting. Nothing connects before the context starts.
 */
public final class KafkaReceivers {

  private KafkaReceivers() {}

  /**
   * {@link #create(StreamingContext, Collection, Map, KafkaReceiverOptions)} with default options.
   */
  public static <K, V> DStream<ConsumerRecord<K, V>> create(
      StreamingContext ctx, Collection<String> topics, Map<String, Object> kafkaParams) {
    return create(ctx, topics, kafkaParams, KafkaReceiverOptions.defaults());
  }

  /**
   * The plain Kafka receiver: commits each stored block's positions to the Kafka consumer group
   * ({@code commitSync}, as a member of the group) right after {@code store} returned.
   *
   * <p>Guarantee: without the context's write-ahead log a stored block lives in memory until its
   * batch commits, while its offsets are already committed, so a crash of the process loses the
   * records of the blocks no committed batch processed yet: at-most-once for those. Records the
   * receiver polled but did not store (a failure, a stop, a rebalance) are not committed and are
   * received again, and a restart of the receiver inside a running context loses nothing. With
   * {@code receiverWriteAheadLog(true)} the plain receiver is at-least-once, like {@link #reliable}
   * with its default options.
   *
   * @throws IllegalArgumentException when a topic or a Kafka parameter is missing or wrong
   */
  public static <K, V> DStream<ConsumerRecord<K, V>> create(
      StreamingContext ctx,
      Collection<String> topics,
      Map<String, Object> kafkaParams,
      KafkaReceiverOptions options) {
    Objects.requireNonNull(ctx, "ctx must not be null");
    Objects.requireNonNull(options, "options must not be null");
    ReceiverParams params = ReceiverParams.validate(topics, kafkaParams);
    KafkaBlockReceiver receiver =
        KafkaReceiverStreams.receiver(
            ctx,
            params,
            null,
            UnaryOperator.identity(),
            options.pollTimeout(),
            options.closeTimeout(),
            "Kafka receiver");
    return KafkaReceiverStreams.stream(ctx, params, receiver);
  }

  /**
   * The reliable Kafka receiver: every poll's records are written to the context's write-ahead log
   * as one block ({@code store(List)} returns once the block is in the log and fsynced), and only
   * then are the positions that block reached committed, so no offset is ever committed for a
   * record that is not in the log. A crash loses nothing: the log replays the blocks of uncommitted
   * batches, and the receiver resumes from the committed positions, after the last block in the
   * log. At-least-once end to end: blocks written but not committed when the receiver failed are
   * received again; an output that must see each record once dedupes by topic, partition and
   * offset.
   *
   * <p>Offsets go to {@link ReliableReceiverOptions#offsetStore()} when set, for example {@code
   * OffsetStores.zookeeper(connect)}: one {@code BatchCommit} per stored block with a range per
   * partition from its last committed position to the consumer's position after the poll, batch ids
   * continuing the group's ({@code lastBatchId(group) + 1}, then increasing), fenced by the store's
   * offset check; partitions assigned seek to the store's committed position, or where {@code
   * auto.offset.reset} says when it holds none (Kafka's default {@code latest}; {@code none}
   * restarts the receiver with an error naming the partitions). Without a store, offsets go to the
   * Kafka consumer group with {@code commitSync}, where assigned partitions also start.
   *
   * @throws IllegalStateException when {@code ctx} does not keep a receiver write-ahead log ({@code
   *     StreamingContext.builder().receiverWriteAheadLog(true)}, with a checkpoint directory)
   * @throws IllegalArgumentException when a topic or a Kafka parameter is missing or wrong, or the
   *     offset store is the Kafka store of the cluster the receiver reads
   */
  public static <K, V> DStream<ConsumerRecord<K, V>> reliable(
      StreamingContext ctx,
      Collection<String> topics,
      Map<String, Object> kafkaParams,
      ReliableReceiverOptions options) {
    Objects.requireNonNull(ctx, "ctx must not be null");
    Objects.requireNonNull(options, "options must not be null");
    ReceiverParams params = ReceiverParams.validate(topics, kafkaParams);
    if (!ctx.receiverWriteAheadLog()) {
      throw new IllegalStateException(
          "the reliable Kafka receiver of group '"
              + params.group()
              + "' needs a context with a receiver write-ahead log"
              + " (StreamingContext.builder().receiverWriteAheadLog(true) and a checkpointDir): it"
              + " commits offsets only for blocks written to that log; context '"
              + ctx.appName()
              + "' keeps none");
    }
    OffsetStore store = options.offsetStore().orElse(null);
    if (store != null
        && store.location().equals(KafkaGroupOffsets.clusterKey(params.bootstrapServers()))) {
      throw new IllegalArgumentException(
          "offsetStore "
              + store.describe()
              + " writes the consumer groups of the cluster the receiver reads, where group '"
              + params.group()
              + "' is committed by its own members: leave offsetStore unset to commit to the"
              + " Kafka group, or use another store such as OffsetStores.zookeeper(...)");
    }
    KafkaBlockReceiver receiver =
        KafkaReceiverStreams.receiver(
            ctx,
            params,
            store,
            UnaryOperator.identity(),
            options.pollTimeout(),
            options.closeTimeout(),
            "reliable Kafka receiver");
    return KafkaReceiverStreams.stream(ctx, params, receiver);
  }
}
