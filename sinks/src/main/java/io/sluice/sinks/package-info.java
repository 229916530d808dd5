/** Sink contract and JDBC, Kafka, file and console sinks. */
package io.sluice.sinks;
