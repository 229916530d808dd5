/**
 * The Kafka direct stream: every batch pins one offset range per topic-partition into a {@link
 * io.sluice.kafka.direct.KafkaRDD}, and task slots read exactly those ranges by position. Entry
 * points: {@link io.sluice.kafka.direct.KafkaDirect}, {@link
 * io.sluice.kafka.direct.ConsumerStrategies} and {@link
 * io.sluice.kafka.direct.DirectStreamOptions}.
 */
package io.sluice.kafka.direct;
