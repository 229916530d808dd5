/**
 * Discretized streams: {@link io.sluice.engine.dstream.DStream} and {@link
 * io.sluice.engine.dstream.PairDStream} operators, windows and output operations, and the input SPI
 * {@link io.sluice.engine.dstream.InputDStream} that plans, builds and commits each batch.
 */
package io.sluice.engine.dstream;
