/**
 * Real Kafka (KRaft), ZooKeeper and PostgreSQL servers in-process, for tests and demos.
 *
 * <p>Start one directly ({@link io.sluice.testkit.EmbeddedKafka#startNew()}, {@link
 * io.sluice.testkit.EmbeddedZooKeeper#startNew()}, {@link
 * io.sluice.testkit.EmbeddedPostgresDatabase#startNew()}) and close it, or let a JUnit 5 extension
 * ({@link io.sluice.testkit.EmbeddedKafkaExtension} and siblings) inject one instance shared by
 * every test class of the run. Servers bind 127.0.0.1 and delete their temporary directories on
 * close. This artifact brings no SLF4J binding; the broker's Log4j API calls are forwarded to
 * SLF4J.
 */
package io.sluice.testkit;
