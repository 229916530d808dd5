/** Streaming core: contexts, DStreams, RDDs, scheduler. Knows nothing of Kafka. */
package io.sluice.engine;
