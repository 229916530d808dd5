/**
 * Offset ranges, offset stores with history, replay starts and the {@code sluice offsets} command
 * line.
 */
package io.sluice.offsets;
