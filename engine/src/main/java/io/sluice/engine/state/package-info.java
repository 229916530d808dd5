/**
 * Keyed state: how state keys and values are turned into bytes ({@link
 * io.sluice.engine.state.StateSerde}). The versioned store that keeps state across batches and
 * crashes lives in the internal package and follows the committed batch.
 */
package io.sluice.engine.state;
