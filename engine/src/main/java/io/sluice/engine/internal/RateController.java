package io.sluice.engine.internal;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.RateEstimator;
import io.sluice.engine.RateEstimators;
import io.sluice.engine.dstream.InputDStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Feeds one PID estimator per input on every completed batch and passes new rates to the inputs.
 */
final class RateController {

  private final EngineRuntime rt;
  private final List<RateEstimator> estimators = new ArrayList<>();

  RateController(EngineRuntime rt) {
    this.rt = rt;
  }

  void onBatchCompleted(BatchInfo info, long[] inputRecords) {
    List<InputDStream<?, ?>> inputs = rt.graph().inputs();
    while (estimators.size() < inputs.size()) {
      estimators.add(RateEstimators.pid(rt.batchInterval()));
    }
    long end = info.processingEndTime().orElseThrow().toEpochMilli();
    long processing = info.processingTime().orElse(Duration.ZERO).toMillis();
    long scheduling = info.schedulingDelay().orElse(Duration.ZERO).toMillis();
    for (int i = 0; i < inputs.size() && i < inputRecords.length; i++) {
      if (inputRecords[i] < 0) {
        continue;
      }
      OptionalDouble rate = estimators.get(i).compute(end, inputRecords[i], processing, scheduling);
      if (rate.isPresent()) {
        inputs.get(i).onRateUpdate(Math.round(rate.getAsDouble()));
      }
    }
  }
}
