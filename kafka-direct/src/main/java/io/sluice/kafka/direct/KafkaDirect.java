package io.sluice.kafka.direct;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.kafka.direct.internal.ConsumerCache;
import io.sluice.kafka.direct.internal.DirectKafkaInputDStream;
import io.sluice.kafka.direct.internal.KafkaMetrics;
import io.sluice.kafka.direct.internal.KafkaParams;
import io.sluice.kafka.direct.internal.KafkaRDDImpl;
import io.sluice.kafka.direct.internal.ReadSupport;
import io.sluice.offsets.OffsetRange;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Entry points of the Kafka direct stream, in the shape of Spark's {@code KafkaUtils}: a stream
 * whose every batch is a {@link KafkaRDD} over pinned offset ranges, and a one-off RDD over fixed
 * ranges.
 */
public final class KafkaDirect {

  private KafkaDirect() {}

  /**
   * {@link #createDirectStream(StreamingContext, ConsumerStrategy, DirectStreamOptions)} with
   * default options.
   */
  public static <K, V> DStream<ConsumerRecord<K, V>> createDirectStream(
      StreamingContext ctx, ConsumerStrategy<K, V> strategy) {
    return createDirectStream(ctx, strategy, DirectStreamOptions.defaults());
  }

  /**
   * Registers a direct stream with {@code ctx}. Every batch's RDD is a {@link KafkaRDD} (cast it to
   * read the batch's ranges); the returned stream also implements {@link CanCommitOffsets}. The
   * strategy's parameters must set {@code bootstrap.servers}, {@code group.id} and the key and
   * value deserializers. Call before {@code ctx.start()}; connects to nothing until then. The
   * context's {@code start()} then checks, within the options' {@code pollTimeout}, that the
   * cluster answers and the dead-letter topic exists (else a {@link StreamStartException}), and
   * warns of named topics that do not exist.
   *
   * @throws IllegalArgumentException when {@code group.id} is missing or the input name is taken
   */
  public static <K, V> DStream<ConsumerRecord<K, V>> createDirectStream(
      StreamingContext ctx, ConsumerStrategy<K, V> strategy, DirectStreamOptions options) {
    Objects.requireNonNull(ctx, "ctx must not be null");
    Objects.requireNonNull(strategy, "strategy must not be null");
    Objects.requireNonNull(options, "options must not be null");
    return new DirectKafkaInputDStream<>(ctx, strategy, options);
  }

  /**
   * An RDD over exactly {@code ranges}, for a batch job outside any stream (e.g. re-processing a
   * saved batch). Each task reads with its own consumer, closed when the task ends; no group is
   * joined, nothing is committed, deserialization failures fail the job.
   *
   * @param kafkaParams {@code bootstrap.servers}, the key and value deserializers, optionally
   *     {@code isolation.level}
   */
  public static <K, V> KafkaRDD<K, V> createRDD(
      StreamingContext ctx, Map<String, Object> kafkaParams, List<OffsetRange> ranges) {
    Objects.requireNonNull(ctx, "ctx must not be null");
    Map<String, Object> params =
        Map.copyOf(Objects.requireNonNull(kafkaParams, "kafkaParams must not be null"));
    if (params.get("bootstrap.servers") == null) {
      throw new IllegalArgumentException(
          "kafkaParams must set bootstrap.servers, were " + params.keySet());
    }
    List<OffsetRange> sorted =
        ranges.stream()
            .sorted(
                Comparator.comparing(OffsetRange::topic).thenComparingInt(OffsetRange::partition))
            .toList();
    if (sorted.stream().map(OffsetRange::topicPartition).distinct().count() != sorted.size()) {
      throw new IllegalArgumentException(
          "ranges must hold at most one range per topic-partition, were " + ranges);
    }
    boolean deserializes = KafkaParams.consumerCanDeserialize(params, ErrorPolicy.fail());
    Map<String, Object> consumerConfig = KafkaParams.taskConsumer(params, deserializes);
    ConsumerCache uncached =
        new ConsumerCache(
            () -> new KafkaConsumer<>(consumerConfig),
            DataLossPolicy.FAIL,
            DirectStreamOptions.DEFAULT_CONSUMER_IDLE_TIMEOUT,
            0);
    ReadSupport support =
        new ReadSupport(
            params,
            uncached,
            deserializes,
            ErrorPolicy.fail(),
            null,
            DirectStreamOptions.DEFAULT_POLL_TIMEOUT,
            new KafkaMetrics(ctx.meterRegistry(), "rdd"));
    return new KafkaRDDImpl<>(ctx, sorted, support);
  }
}
