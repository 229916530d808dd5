/**
 * Offset ranges, offset stores and the sluice offsets command line.
 */
package io.sluice.offsets;
