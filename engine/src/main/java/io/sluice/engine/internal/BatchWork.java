package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.dstream.internal.OutputOperation;
import java.time.Instant;
import java.util.List;

/**
 * A planned batch ready to run.
 *
 * @param batch the batch
 * @param jobs one job per output operation, in order
 * @param inputRecords each input's record count (-1 unknown), in input order
 * @param numRecords the batch's known record total
 * @param submissionTime when it was queued
 */
record BatchWork(
    Batch batch,
    List<OutputOperation.Job> jobs,
    long[] inputRecords,
    long numRecords,
    Instant submissionTime) {}
