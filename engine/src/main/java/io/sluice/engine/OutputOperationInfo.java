package io.sluice.engine;

import java.time.Instant;
import java.util.Optional;

/**
 * What listeners learn about one output operation's job in one batch.
 *
 * @param batchId batch id
 * @param batchTime batch time
 * @param id the output operation's index in registration order
 * @param name the output operation's stable name
 * @param startTime when its job started
 * @param endTime when it ended, once it has
 * @param failureReason the failure's message when it failed
 */
public record OutputOperationInfo(
    long batchId,
    Instant batchTime,
    int id,
    String name,
    Instant startTime,
    Optional<Instant> endTime,
    Optional<String> failureReason) {}
