package io.sluice.offsets.internal.cli;

import picocli.CommandLine.Command;

/** {@code sluice offsets}: the parent of the offset subcommands. */
@Command(
    name = "offsets",
    mixinStandardHelpOptions = true,
    versionProvider = CliVersion.class,
    description = "Inspect, export, import and reset the offsets of a Sluice stream.",
    subcommands = {
      ListCommand.class,
      HistoryCommand.class,
      ResetCommand.class,
      ExportCommand.class,
      ImportCommand.class
    })
public final class OffsetsCommand {}
