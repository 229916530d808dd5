package io.sluice.sinks.internal;

import io.sluice.engine.TerminalException;
import io.sluice.engine.rdd.RDD;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes an RDD's partitions on the context's task slots and hands each finished partition, whole, to
 * the one thread that consumes them (a sink's job thread owning a transaction), while the other partitions
 * are still being computed.
 *
 * <p>A task hands over its partition only after reading it to the end, so a failed task attempt hands over
 * nothing and its retry cannot duplicate records. At most {@code capacity} finished partitions wait in the
 * hand-off; tasks beyond that block, which bounds memory to about {@code capacity + parallelism}
 * partitions. Partitions arrive in completion order, not index order.
 *
 * <p>The job runs on a thread {@code sluice-sink-feeder-<sink>}, because the engine's
 * {@code runJob} blocks its caller. Not thread-safe: one consumer thread calls {@link #next()} and
 * {@link #close()}.
 *
 * @param <T> record type
 */
public final class PartitionFeed<T> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionFeed.class);
    private static final Object END = new Object();

    /** One finished partition. */
    public record Chunk<T>(int partition, List<T> records) {
    }

    private record Failure(Throwable cause) {
    }

    private final BlockingQueue<Object> queue;
    private final Thread feeder;
    private volatile boolean cancelled;
    private boolean finished;

    private PartitionFeed(RDD<T> rdd, String sinkName, int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity + 1);
        this.feeder = new Thread(() -> feed(rdd), "sluice-sink-feeder-" + sinkName);
        feeder.setDaemon(true);
        feeder.setUncaughtExceptionHandler((t, e) -> LOG.error("{} died", t.getName(), e));
    }

    /** Starts computing {@code rdd}; {@link #next()} returns its partitions as they finish. */
    public static <T> PartitionFeed<T> start(RDD<T> rdd, String sinkName, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be > 0, was " + capacity);
        }
        PartitionFeed<T> feed = new PartitionFeed<>(rdd, sinkName, capacity);
        feed.feeder.start();
        return feed;
    }

    private void feed(RDD<T> rdd) {
        Object last;
        try {
            rdd.runJob((it, task) -> {
                if (cancelled) {
                    throw stopped();
                }
                List<T> records = new ArrayList<>();
                while (it.hasNext()) {
                    records.add(it.next());
                }
                handOver(new Chunk<>(task.partition(), records));
                return Boolean.TRUE;
            });
            last = END;
        } catch (Throwable e) {
            last = new Failure(e);
        }
        try {
            handOver(last);
        } catch (TerminalException | InterruptedException e) {
            // The consumer has gone: nobody is left to read the outcome.
        }
    }

    private void handOver(Object item) throws InterruptedException {
        // Polls so that a consumer that gave up (close) releases blocked tasks.
        while (!queue.offer(item, 50, TimeUnit.MILLISECONDS)) {
            if (cancelled) {
                throw stopped();
            }
        }
    }

    private static TerminalException stopped() {
        // Terminal, so the engine does not retry a task whose consumer has gone.
        return new TerminalException("the sink stopped reading this batch");
    }

    /**
     * The next finished partition, blocking until one is ready; null when every partition was handed over.
     *
     * @throws Exception the job's failure (a task that failed all its attempts)
     */
    public Chunk<T> next() throws Exception {
        if (finished) {
            return null;
        }
        Object item = queue.take();
        if (item == END) {
            finished = true;
            return null;
        }
        if (item instanceof Failure f) {
            finished = true;
            if (f.cause() instanceof Exception e) {
                throw e;
            }
            throw (Error) f.cause();
        }
        @SuppressWarnings("unchecked")
        Chunk<T> chunk = (Chunk<T>) item;
        return chunk;
    }

    /**
     * Stops handing over (blocked and later tasks fail without retry) and waits for the job to end, so no task
     * of this batch outlives the sink's transaction. Idempotent; keeps the caller's interrupt status.
     */
    @Override
    public void close() {
        cancelled = true;
        boolean interrupted = false;
        while (feeder.isAlive()) {
            queue.clear();
            try {
                feeder.join(50);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        queue.clear();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
