/** Kafka receivers on the engine's receiver framework. */
package io.sluice.kafka.receiver;
