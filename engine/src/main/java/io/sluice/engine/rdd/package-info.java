/**
 * The RDD model: immutable, partitioned, lazily computed collections with narrow and shuffle
 * dependencies, computed as pull iterators on the context's task slots. Subclass {@link
 * io.sluice.engine.rdd.RDD} (numPartitions and compute) to add a source, as the Kafka direct stream
 * does.
 */
package io.sluice.engine.rdd;
