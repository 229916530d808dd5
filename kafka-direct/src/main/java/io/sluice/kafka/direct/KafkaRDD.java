package io.sluice.kafka.direct;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.SourcePartitioned;
import io.sluice.offsets.HasOffsetRanges;
import io.sluice.offsets.OffsetRange;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * An RDD whose partitions are pinned Kafka offset ranges, one partition per range, in {@link
 * #offsetRanges()} order. A partition yields exactly the records of its range that the consumer's
 * isolation level lets through, in offset order; computing it again (a retried task, a second
 * output operation) yields the same records. As in Spark, cast a batch's RDD to {@link
 * HasOffsetRanges} (or to this class) to see what it read. A batch has one range per
 * topic-partition, unless {@link DirectStreamOptions.Builder#minPartitions(int)} cuts them into
 * contiguous pieces, one partition each.
 *
 * @param <K> key type
 * @param <V> value type
 */
public abstract class KafkaRDD<K, V> extends RDD<ConsumerRecord<K, V>>
    implements HasOffsetRanges, SourcePartitioned {

  private final List<OffsetRange> ranges;

  /** For the implementation in this module; {@code ranges} are copied. */
  protected KafkaRDD(StreamingContext context, List<OffsetRange> ranges) {
    super(context);
    this.ranges = List.copyOf(Objects.requireNonNull(ranges, "ranges"));
  }

  /** The ranges, one per partition of this RDD, sorted by topic, partition and offset. */
  @Override
  public final List<OffsetRange> offsetRanges() {
    return ranges;
  }

  /** The number of ranges. */
  @Override
  public final int numPartitions() {
    return ranges.size();
  }

  /** The topic-partition that partition {@code partition} reads, as {@code <topic>-<partition>}. */
  @Override
  public final String sourcePartition(int partition) {
    return ranges.get(partition).topicPartition().toString();
  }

  /** The number of offsets the ranges cover: an upper bound of the record count. */
  public final long offsetCount() {
    long n = 0;
    for (OffsetRange r : ranges) {
      n += r.count();
    }
    return n;
  }
}
