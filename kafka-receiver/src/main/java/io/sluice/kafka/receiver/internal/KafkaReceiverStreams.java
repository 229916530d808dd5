package io.sluice.kafka.receiver.internal;

import io.sluice.engine.Clock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.offsets.OffsetStore;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Builds the Kafka receivers and their streams: a receiver stream of {@link ReceivedRecord}s, each
 * block decoded into {@code ConsumerRecord}s in the tasks.
 */
public final class KafkaReceiverStreams {

  private KafkaReceiverStreams() {}

  /**
   * The receiver committing to the Kafka group ({@code store == null}) or to {@code store}, whose
   * blocks go through {@code writer} (the identity in production).
   */
  public static KafkaBlockReceiver receiver(
      StreamingContext ctx,
      ReceiverParams params,
      OffsetStore store,
      UnaryOperator<BlockWriter> writer,
      Duration pollTimeout,
      Duration closeTimeout,
      String kind) {
    Clock clock = ctx.clock();
    Supplier<OffsetCommitter> committers =
        store == null
            ? () -> new GroupCommitter(params.group())
            : () -> new StoreCommitter(store, params.group(), params.autoOffsetReset(), clock);
    return new KafkaBlockReceiver(
        params, committers, writer, pollTimeout, closeTimeout, ctx.blockInterval(), kind);
  }

  /** Registers {@code receiver}'s stream with {@code ctx}, decoded with {@code params}. */
  public static <K, V> DStream<ConsumerRecord<K, V>> stream(
      StreamingContext ctx, ReceiverParams params, KafkaBlockReceiver receiver) {
    DStream<ReceivedRecord> blocks = ctx.receiverStream(receiver);
    return blocks.mapPartitions(records -> RecordDecoder.<K, V>decode(params, records));
  }
}
