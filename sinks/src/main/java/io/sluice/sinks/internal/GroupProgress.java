package io.sluice.sinks.internal;

import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.sinks.SinkException;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;

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
        try {
            return KafkaGroupOffsets.lastBatchId(admin, group, timeout).orElse(-1);
        } catch (OffsetStoreException e) {
            throw new SinkException(e.getMessage(), e);
        }
    }
}
