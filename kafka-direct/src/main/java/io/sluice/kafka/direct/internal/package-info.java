/**
 * Implementation of the Kafka direct stream: the driver-side planner and start-offset resolver,
 * rate limits, the task-side range reader and consumer cache, deserialization with error policies,
 * dead letters and metrics. Not an API: nothing outside this module may import it.
 */
package io.sluice.kafka.direct.internal;
