package io.sluice.kafka.direct.internal;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.kafka.direct.ErrorPolicy;
import io.sluice.kafka.direct.KafkaRDD;
import io.sluice.offsets.OffsetRange;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The {@link KafkaRDD} of a batch or of a one-off job: each task checks out the consumer of its
 * range's partition (a fresh one on a retry), reads the range by position and gives the consumer
 * back when the range is done or the task ends.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class KafkaRDDImpl<K, V> extends KafkaRDD<K, V> {

  private final ReadSupport support;
  private final long batchId;

  /** Creates the RDD of a one-off job over {@code ranges}. */
  public KafkaRDDImpl(StreamingContext context, List<OffsetRange> ranges, ReadSupport support) {
    this(context, ranges, support, -1);
  }

  /** Creates the RDD of stream batch {@code batchId} over {@code ranges}. */
  public KafkaRDDImpl(
      StreamingContext context, List<OffsetRange> ranges, ReadSupport support, long batchId) {
    super(context, ranges);
    this.support = support;
    this.batchId = batchId;
  }

  @Override
  public Iterator<ConsumerRecord<K, V>> compute(int partition, TaskContext ctx) {
    OffsetRange range = offsetRanges().get(partition);
    boolean fresh = ctx.attemptNumber() > 0;
    RangeIterator<K, V> it;
    if (!support.consumerDeserializes()) {
      it =
          new RangeIterator<>(
              support.cache(),
              range,
              fresh,
              support.<K, V>decoder(batchId),
              support.pollTimeout(),
              support.metrics());
    } else if (support.errorPolicy() instanceof ErrorPolicy.Skip) {
      it =
          RangeIterator.skippingBadRecords(
              support.cache(), range, fresh, support.pollTimeout(), support.metrics());
    } else {
      it =
          new RangeIterator<>(
              support.cache(), range, fresh, support.pollTimeout(), support.metrics());
    }
    ctx.addCompletionListener(it::release);
    return it;
  }
}
