package io.sluice.sinks.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.TerminalException;
import io.sluice.engine.function.Function;
import io.sluice.engine.rdd.RDD;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.OffsetRange;
import io.sluice.sinks.KafkaSink;
import io.sluice.sinks.SinkException;
import io.sluice.sinks.TransactionalSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka sink; see {@link KafkaSink}. The producer is shared: the job thread owns the transaction
 * (begin, flush, offsets, commit, abort) under {@code lock}; task threads only call {@code send}, which
 * {@link KafkaProducer} allows concurrently.
 *
 * @param <T> record type
 */
public final class KafkaSinkImpl<T> implements KafkaSink<T> {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSinkImpl.class);
    private static final int DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

    /** The validated builder settings. */
    public record Settings<T>(Map<String, Object> producerConfig, Function<T, ? extends ProducerRecord<?, ?>> record,
            Serializer<?> keySerializer, Serializer<?> valueSerializer, boolean exactlyOnce, String name,
            Duration transactionTimeout, Duration timeout) {
    }

    private final Settings<T> settings;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile SinkMetrics metrics;
    private volatile String transactionalId;
    private StreamingContext context; // guarded by lock
    private KafkaProducer<Object, Object> producer; // guarded by lock
    private Admin admin; // guarded by lock
    private Throwable fenced; // guarded by lock
    private boolean closed; // guarded by lock

    /** Creates the sink from validated settings; connects at {@link #open}. */
    public KafkaSinkImpl(Settings<T> settings) {
        this.settings = settings;
        this.metrics = SinkMetrics.detached(describe());
    }

    @Override
    public String describe() {
        return "KafkaSink[" + settings.name() + "]";
    }

    @Override
    public String transactionalId() {
        return transactionalId;
    }

    @Override
    public DeliveryGuarantee guarantee() {
        return settings.exactlyOnce() ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE;
    }

    @Override
    public Optional<CommitTarget> offsetCommitTarget() {
        if (!settings.exactlyOnce()) {
            return Optional.empty();
        }
        Object servers = settings.producerConfig().get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
        return Optional.of(new CommitTarget(KafkaGroupOffsets.clusterKey(servers),
                "the consumer groups of the Kafka cluster at " + servers));
    }

    @Override
    public List<String> exactlyOnceGaps() {
        return settings.exactlyOnce() ? List.of()
                : List.of(describe() + " is at-least-once: a replayed batch is sent again (build it with exactlyOnce())");
    }

    private long transactionTimeoutMs() {
        if (settings.transactionTimeout() != null) {
            return settings.transactionTimeout().toMillis();
        }
        Object configured = settings.producerConfig().get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG);
        return configured == null ? DEFAULT_TRANSACTION_TIMEOUT_MS : Long.parseLong(configured.toString());
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public void open(StreamingContext ctx) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(describe() + " is closed");
            }
            context = ctx;
            metrics = SinkMetrics.of(ctx.meterRegistry(), ctx.appName(), describe());
            if (settings.exactlyOnce()) {
                transactionalId = ctx.appName() + "-" + settings.name();
                admin = Admin.create(adminConfig());
                TransactionTimeoutCheck.check(describe(), transactionTimeoutMs(), ctx.batchInterval(), admin,
                        settings.timeout());
            }
            producer = newProducer();
        } catch (RuntimeException e) {
            releaseClients();
            throw e;
        } finally {
            lock.unlock();
        }
    }

    private Map<String, Object> adminConfig() {
        Map<String, Object> config = new HashMap<>();
        settings.producerConfig().forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k) && !k.equals(AdminClientConfig.CLIENT_ID_CONFIG)) {
                config.put(k, v);
            }
        });
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-sink-admin-" + settings.name());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) settings.timeout().toMillis());
        return config;
    }

    /**
     * A new producer; in exactly-once mode after {@code initTransactions()}, which fences older producers with
     * the same transactional id and aborts the transaction a crashed one left open.
     */
    @SuppressWarnings("unchecked")
    private KafkaProducer<Object, Object> newProducer() {
        Map<String, Object> config = new HashMap<>(settings.producerConfig());
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        if (settings.exactlyOnce()) {
            config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) transactionTimeoutMs());
        }
        config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "sluice-sink-" + settings.name());
        // Bounds send, flush and every transactional call, so an unreachable broker fails the batch.
        config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, settings.timeout().toMillis());
        KafkaProducer<Object, Object> p = new KafkaProducer<>(config, (Serializer<Object>) settings.keySerializer(),
                (Serializer<Object>) settings.valueSerializer());
        if (settings.exactlyOnce()) {
            try {
                p.initTransactions();
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                throw new SinkException(describe() + ": initTransactions for transactional.id '" + transactionalId
                        + "' failed: " + e, e);
            }
            LOG.info("{}: transactional producer '{}' ready; older producers with this id are fenced and their open"
                    + " transactions aborted", describe(), transactionalId);
        }
        return p;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            releaseClients();
        } finally {
            lock.unlock();
        }
    }

    private void releaseClients() {
        if (producer != null) {
            // A transaction still open here belongs to a failed or interrupted batch: closing aborts it.
            producer.close(settings.timeout());
            producer = null;
        }
        if (admin != null) {
            admin.close(settings.timeout());
            admin = null;
        }
    }

    // ---------------------------------------------------------------- writing

    @Override
    public void write(RDD<T> rdd, Batch batch) throws Exception {
        lock.lockInterruptibly();
        try {
            KafkaProducer<Object, Object> p = usableProducer();
            long start = System.nanoTime();
            if (settings.exactlyOnce()) {
                writeTransactionally(p, rdd, batch, start);
            } else {
                writeAtLeastOnce(p, rdd, batch, start);
            }
        } finally {
            lock.unlock();
        }
    }

    private KafkaProducer<Object, Object> usableProducer() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed");
        }
        if (context == null) {
            throw new IllegalStateException(describe() + " is not open: open(context) runs at StreamingContext.start()");
        }
        if (fenced != null) {
            throw new SinkException(describe() + ": producer '" + transactionalId + "' was fenced by a newer producer"
                    + " with the same transactional.id; this process can no longer write (restart it)", fenced);
        }
        if (producer == null) {
            producer = newProducer();
        }
        return producer;
    }

    private void writeAtLeastOnce(KafkaProducer<Object, Object> p, RDD<T> rdd, Batch batch, long start) {
        Sends sends = new Sends();
        List<Integer> counts = rdd.runJob((it, task) -> {
            int n = 0;
            while (it.hasNext()) {
                p.send(toRecord(it.next()), sends);
                n++;
            }
            return n;
        });
        p.flush();
        Throwable error = sends.error.get();
        if (error != null) {
            throw new SinkException(describe() + ": sending batch " + batch.id() + " failed: " + error, error);
        }
        metrics.batchWritten(start, sum(counts));
    }

    private void writeTransactionally(KafkaProducer<Object, Object> p, RDD<T> rdd, Batch batch, long start) {
        List<BatchCommit> commits = TransactionalSink.batchCommits(batch);
        Sends sends = new Sends();
        long records;
        try {
            p.beginTransaction();
            records = sum(rdd.runJob((it, task) -> sendPartition(p, it, task.partition(), batch, sends)));
            p.flush();
            Throwable error = sends.error.get();
            if (error != null) {
                throw new SinkException(describe() + ": a send of batch " + batch.id() + " failed: " + error, error);
            }
            for (BatchCommit commit : commits) {
                requireGroupAt(commit);
                Map<TopicPartition, OffsetAndMetadata> offsets = offsets(commit);
                if (!offsets.isEmpty()) {
                    p.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(commit.group()));
                }
            }
            p.commitTransaction();
        } catch (RuntimeException e) {
            throw failed(p, batch, e);
        }
        metrics.batchWritten(start, records);
    }

    /**
     * Sends one partition inside the open transaction. The partition is mapped to Kafka records before the
     * first send, so a failure in user code or in reading the input leaves nothing in the transaction and the
     * engine may retry the task; a partition that is attempted again after it sent records would duplicate
     * them in the transaction, so that attempt fails the batch instead.
     */
    private int sendPartition(KafkaProducer<Object, Object> p, java.util.Iterator<T> it, int partition, Batch batch,
            Sends sends) throws Exception {
        List<ProducerRecord<Object, Object>> out = new ArrayList<>();
        while (it.hasNext()) {
            out.add(toRecord(it.next()));
        }
        if (!sends.startedPartitions.add(partition)) {
            throw new TerminalException(describe() + ": partition " + partition + " of batch " + batch.id()
                    + " was attempted again after it had sent records into the open transaction; the transaction"
                    + " is aborted and the batch must be replayed");
        }
        for (ProducerRecord<Object, Object> r : out) {
            p.send(r, sends);
        }
        return out.size();
    }

    @SuppressWarnings("unchecked")
    private ProducerRecord<Object, Object> toRecord(T t) throws Exception {
        ProducerRecord<?, ?> r = settings.record().call(t);
        if (r == null) {
            throw new TerminalException(describe() + ": the record function returned null for " + t);
        }
        return (ProducerRecord<Object, Object>) r;
    }

    /**
     * Fences the commit by offsets: the group's committed offsets (stable, read inside the open transaction)
     * must stand where the batch's ranges begin. The transactional id fences another instance of this sink;
     * this check also catches a reset of the group or another writer of it.
     */
    private void requireGroupAt(BatchCommit commit) {
        Map<TopicPartition, Long> committed = new HashMap<>();
        try {
            KafkaGroupOffsets.readStable(admin, commit.group(), settings.timeout())
                    .forEach((tp, om) -> committed.put(tp, om.offset()));
        } catch (OffsetStoreException e) {
            throw new SinkException(describe() + ": " + e.getMessage(), e);
        }
        KafkaGroupOffsets.requireRangesStartAt(committed, commit, describe() + " (consumer group '"
                + commit.group() + "')");
    }

    private static Map<TopicPartition, OffsetAndMetadata> offsets(BatchCommit commit) {
        String metadata = KafkaCommitMetadata.encode(commit.batchId(), commit.batchTime());
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        for (OffsetRange r : commit.ranges()) {
            offsets.put(r.topicPartition(), new OffsetAndMetadata(r.untilOffset(), metadata));
        }
        return offsets;
    }

    /** Ends a failed transaction and builds the batch's failure; the producer is dropped if unusable. */
    private SinkException failed(KafkaProducer<Object, Object> p, Batch batch, RuntimeException e) {
        // Aborting is illegal once fenced; a send with a stale epoch shows the fence only when aborting.
        boolean fencedNow = isFenced(e);
        if (!fencedNow) {
            try {
                p.abortTransaction();
            } catch (RuntimeException abortFailure) {
                e.addSuppressed(abortFailure);
                fencedNow = isFenced(abortFailure);
                // Otherwise fatal too: a new producer (initTransactions) ends what is left at the next batch.
                producer = null;
                p.close(Duration.ZERO);
            }
        }
        if (fencedNow) {
            fenced = e;
            if (producer != null) {
                producer = null;
                p.close(Duration.ZERO);
            }
            return new SinkException(describe() + ": batch " + batch.id() + " failed: producer '" + transactionalId
                    + "' was fenced by a newer producer with the same transactional.id (another instance of this"
                    + " application?); nothing of the batch is committed", e);
        }
        if (e instanceof OffsetFencedException) {
            return new SinkException(describe() + ": batch " + batch.id() + " aborted (no records, no offsets): "
                    + e.getMessage(), e);
        }
        return new SinkException(describe() + ": batch " + batch.id() + " failed and its transaction was aborted"
                + " (no records, no offsets committed): " + e, e);
    }

    private static boolean isFenced(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException) {
                return true;
            }
            for (Throwable s : t.getSuppressed()) {
                if (s instanceof ProducerFencedException) {
                    return true;
                }
            }
        }
        return false;
    }

    private static long sum(List<Integer> counts) {
        long n = 0;
        for (int c : counts) {
            n += c;
        }
        return n;
    }

    /** The outcome of one batch's sends: the first failed send and the partitions that started sending. */
    private static final class Sends implements Callback {
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final Set<Integer> startedPartitions = ConcurrentHashMap.newKeySet();

        @Override
        public void onCompletion(org.apache.kafka.clients.producer.RecordMetadata metadata, Exception exception) {
            if (exception != null) {
                error.compareAndSet(null, exception);
            }
        }
    }
}
