/**
 * Real Kafka (KRaft), ZooKeeper and PostgreSQL servers in-process, for tests and demos.
 */
package io.sluice.testkit;
