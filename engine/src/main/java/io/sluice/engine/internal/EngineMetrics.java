package io.sluice.engine.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/** The engine's meters, tagged with the application name. */
public final class EngineMetrics {

  final Timer schedulingDelay;
  final Timer processingTime;
  final Timer totalDelay;
  final DistributionSummary records;
  final Counter taskRetries;
  final Counter batchesCompleted;
  final Counter batchesFailed;
  final Counter listenerEventsDropped;

  EngineMetrics(MeterRegistry registry, String appName) {
    Tags tags = Tags.of("app", appName);
    schedulingDelay =
        Timer.builder("sluice.batch.scheduling.delay")
            .description("time from batch time to the start of its processing")
            .tags(tags)
            .register(registry);
    processingTime =
        Timer.builder("sluice.batch.processing.time")
            .description("time to run a batch's jobs and commit")
            .tags(tags)
            .register(registry);
    totalDelay =
        Timer.builder("sluice.batch.total.delay")
            .description("time from batch time to the batch's completion")
            .tags(tags)
            .register(registry);
    records =
        DistributionSummary.builder("sluice.batch.records")
            .description("records per completed batch")
            .baseUnit("records")
            .tags(tags)
            .register(registry);
    taskRetries =
        Counter.builder("sluice.task.retries")
            .description("task attempts re-run after a failure")
            .tags(tags)
            .register(registry);
    batchesCompleted =
        Counter.builder("sluice.batches.completed")
            .description("batches committed")
            .tags(tags)
            .register(registry);
    batchesFailed =
        Counter.builder("sluice.batches.failed")
            .description("batches failed")
            .tags(tags)
            .register(registry);
    listenerEventsDropped =
        Counter.builder("sluice.listener.events.dropped")
            .description("listener events dropped because the listener bus queue was full")
            .tags(tags)
            .register(registry);
  }
}
