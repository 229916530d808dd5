/**
 * Throughput and latency harness: runnable programs, not tests, each comparing Sluice with the raw
 * limit measured in the same JVM on the same data.
 *
 * <ul>
 *   <li>{@link io.sluice.bench.EngineBench}: per-batch overhead of empty batches, stability of a
 *       short batch interval on the system clock, map/filter throughput over an in-memory source.
 *   <li>{@link io.sluice.bench.KafkaReadBench}: the direct stream against a raw consumer and
 *       pinned-range consumers on an embedded broker.
 *   <li>{@link io.sluice.bench.KafkaToKafkaBench}: exactly-once Kafka to Kafka against a
 *       hand-written transactional loop, and Kafka to PostgreSQL through the JDBC sink.
 *   <li>{@link io.sluice.bench.ReceiverBench}: the reliable Kafka receiver (write-ahead log,
 *       offsets to ZooKeeper or the Kafka group) and the plain receiver against the direct stream:
 *       throughput over the same topic and end-to-end latency at a fixed input rate.
 *   <li>{@link io.sluice.bench.StateBench}: {@code mapWithState} per-batch time against the number
 *       of keys held, the state persisted per batch, restart time on a large state, and {@code
 *       updateStateByKey} for comparison.
 * </ul>
 *
 * <p>The commands are in the module's {@code README.md}. Figures are printed (median of the
 * measured passes after warm-up passes); nothing asserts a time.
 */
package io.sluice.bench;
