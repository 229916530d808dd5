package io.sluice.sinks.internal;

import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.sinks.SinkException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * The last batch id each consumer group committed, decoded from the metadata of its committed offsets
 * ({@link KafkaCommitMetadata}). Read from the broker the first time a group is asked for, then kept in
 * memory and advanced by the sink's own commits: sound because the sink's producer fenced every older
 * producer with its transactional id before the first read. {@link #forget()} drops what is known after a
 * failed transaction. Thread-safe.
 */
final class GroupProgress {

    private final Admin admin;
    private final Duration timeout;
    private final Map<String, Long> known = new ConcurrentHashMap<>();

    GroupProgress(Admin admin, Duration timeout) {
        this.admin = admin;
        this.timeout = timeout;
    }

    /** The group's last committed batch id, or empty when its offsets carry none. Blocking on first use. */
    OptionalLong lastBatchId(String group) {
        Long last = known.get(group);
        if (last == null) {
            last = read(group);
            known.put(group, last);
        }
        return last < 0 ? OptionalLong.empty() : OptionalLong.of(last);
    }

    /** Records that the sink committed {@code batchId} for {@code group}. */
    void committed(String group, long batchId) {
        known.merge(group, batchId, Math::max);
    }

    /** Forgets every group, so the next question reads the broker again. */
    void forget() {
        known.clear();
    }

    private long read(String group) {
        long last = -1;
        for (OffsetAndMetadata om : stableOffsets(group).values()) {
            OptionalLong id = KafkaCommitMetadata.batchId(om.metadata());
            if (id.isPresent()) {
                last = Math.max(last, id.getAsLong());
            }
        }
        return last;
    }

    /**
     * The group's offsets once none is pending in a transaction: the broker leaves partitions whose
     * transactional offsets still await their markers out of a stable read, and markers land within
     * milliseconds of a commit or an abort.
     */
    private Map<TopicPartition, OffsetAndMetadata> stableOffsets(String group) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<TopicPartition, OffsetAndMetadata> stable = offsets(group, true);
            Map<TopicPartition, OffsetAndMetadata> any = offsets(group, false);
            if (stable.keySet().containsAll(any.keySet())) {
                return stable;
            }
            if (System.nanoTime() > deadline) {
                throw new SinkException("the committed offsets of group '" + group + "' for " + any.keySet()
                        + " stayed pending in a transaction for " + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SinkException("interrupted while reading the offsets of group '" + group + "'", e);
            }
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> offsets(String group, boolean requireStable) {
        try {
            Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
            admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().requireStable(requireStable))
                    .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((tp, om) -> {
                        if (om != null) {
                            result.put(tp, om);
                        }
                    });
            return result;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return Map.of();
            }
            throw new SinkException("cannot read the committed offsets of group '" + group + "': " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SinkException("interrupted while reading the offsets of group '" + group + "'", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new SinkException("cannot read the committed offsets of group '" + group + "': no answer within "
                    + timeout.toMillis() + " ms (is the broker reachable?)", e);
        }
    }
}
