/**
 * The Kafka direct stream: KafkaRDD over pinned offset ranges.
 */
package io.sluice.kafka.direct;
