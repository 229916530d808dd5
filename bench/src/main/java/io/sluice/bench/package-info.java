/**
 * Throughput and latency harness.
 */
package io.sluice.bench;
