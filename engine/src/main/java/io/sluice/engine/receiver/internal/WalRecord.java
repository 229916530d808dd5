package io.sluice.engine.receiver.internal;

/**
 * One record read back from a {@link WriteAheadLog}, its checksums verified.
 *
 * @param pointer where the record lives
 * @param payload the bytes appended (owned by the caller; not shared with the log)
 */
public record WalRecord(WalPointer pointer, byte[] payload) {}
