/**
 * Kafka receivers on the engine's receiver framework: a group consumer inside a {@link
 * io.sluice.engine.receiver.Receiver}, plain (offsets committed to the Kafka group after each
 * stored block) or reliable (each block written ahead to the context's log first, then its offsets
 * committed to ZooKeeper, another offset store, or the Kafka group). Entry points: {@link
 * io.sluice.kafka.receiver.KafkaReceivers}, {@link io.sluice.kafka.receiver.KafkaReceiverOptions}
 * and {@link io.sluice.kafka.receiver.ReliableReceiverOptions}.
 */
package io.sluice.kafka.receiver;
