/**
 * The picocli commands behind {@link io.sluice.offsets.cli.SluiceCli}; not part of the public API.
 */
package io.sluice.offsets.internal.cli;
