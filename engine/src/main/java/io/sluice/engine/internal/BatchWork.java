package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.internal.OutputOperation;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    Instant submissionTime) {

  /** Each input's known record count by input name, in input order (unknown counts left out). */
  Map<String, Long> inputRecordsByName(List<InputDStream<?, ?>> inputs) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size() && i < inputRecords.length; i++) {
      if (inputRecords[i] >= 0) {
        out.put(inputs.get(i).name(), inputRecords[i]);
      }
    }
    return out;
  }
}
