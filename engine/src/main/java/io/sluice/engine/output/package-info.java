/**
 * The engine's two plain outputs, shared by {@code DStream.print}/{@code saveAsTextFiles} and by
 * the sinks module's {@code ConsoleSink} and {@code FileSink}: printing a batch's first elements,
 * and writing partitions into a directory that appears atomically. One implementation of each, so
 * the two APIs print and write the same way.
 */
package io.sluice.engine.output;
