package io.sluice.offsets;

import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * An exactly-once output that writes input streams' dead letters inside the transaction of their
 * batch, so that a {@code read_committed} reader sees each dead letter exactly when its batch
 * commits, and never for a batch that failed. The exactly-once Kafka sink implements it.
 *
 * <p>At start, a direct stream with a dead-letter policy whose offsets this output commits asks
 * {@link #acceptsDeadLettersFor}; when the answer is yes it stops sending dead letters itself and
 * registers a {@link Source} instead. Before committing batch {@code b}, the output takes the
 * batch's letters from every source ({@link Source#take}) and sends them in the open transaction.
 */
public interface DeadLetterTransaction {

  /**
   * Whether dead letters for a topic on the Kafka cluster {@code clusterKey} (see {@link
   * KafkaGroupOffsets#clusterKey}) can be written inside this output's transactions. Any thread.
   */
  boolean acceptsDeadLettersFor(String clusterKey);

  /**
   * Registers a source of dead letters; called by {@code StreamingContext.start()} before the first
   * batch, on the driver thread.
   */
  void addDeadLetterSource(Source source);

  /** The dead letters one input stream left to the committing output, per batch. Thread-safe. */
  interface Source {

    /**
     * The dead letters of batch {@code batchId}: one per source record (a record decoded again, by
     * a retried task or another output of the batch, gives no second letter), in the order they
     * were first found. Removes them, and drops any letters of older batches (those were written
     * with their own batch, or their batch failed and is replayed). Empty when there are none.
     */
    List<ProducerRecord<byte[], byte[]>> take(long batchId);
  }
}
