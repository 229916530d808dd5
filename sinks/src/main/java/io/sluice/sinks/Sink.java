package io.sluice.sinks;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.rdd.RDD;
import java.util.Iterator;

/**
 * A sink written partition by partition, in the batch's tasks, whose writes are idempotent per
 * {@code (batch id, partition)}: writing the same partition of the same batch again (a retried
 * task, a batch replayed after a crash) replaces or repeats what the first write did without adding
 * to it.
 *
 * <p>Register with {@code dstream.writeTo(sink)}. The default {@link #write(RDD, Batch)} runs
 * {@link #write(Batch, int, Iterator)} over every partition of the batch's RDD on the context's
 * task slots; sinks that need a step before or after the partitions (a manifest, a rename) override
 * it.
 *
 * @param <T> record type
 */
public interface Sink<T> extends BatchOutput<T> {

  /**
   * Writes one partition of one batch. Called on a task thread, concurrently for different
   * partitions, and again for the same {@code (batch, partition)} when a task is retried or a batch
   * replayed: implementations must make the repeat harmless. Blocks until the partition's records
   * are durable (or handed to a system that makes them so); throwing fails the task.
   *
   * @param batch the batch (id, time, input plans with their offset ranges)
   * @param partition the partition index in the batch's RDD, {@code >= 0}
   * @param records the partition's records, to be read once
   */
  void write(Batch batch, int partition, Iterator<T> records) throws Exception;

  /**
   * Runs {@link #write(Batch, int, Iterator)} over every partition of {@code rdd} on the task slots
   * and blocks until all succeeded. Job thread.
   */
  @Override
  default void write(RDD<T> rdd, Batch batch) throws Exception {
    rdd.runJob(
        (records, task) -> {
          write(batch, task.partition(), records);
          return Boolean.TRUE;
        });
  }
}
