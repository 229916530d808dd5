/** The {@code sluice} command line; run {@link io.sluice.offsets.cli.SluiceCli#main}. */
package io.sluice.offsets.cli;
