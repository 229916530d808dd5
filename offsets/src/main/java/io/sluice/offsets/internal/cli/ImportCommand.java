package io.sluice.offsets.internal.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.internal.CommitCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice offsets import}: sets the group's offsets from an export; a dry run unless {@code
 * --execute}.
 */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description =
        "Set the group's offsets from a file written by export; changes nothing without --execute.")
public final class ImportCommand implements Callable<Integer> {

  @Mixin StoreOptions options;
  @Spec CommandSpec spec;

  @Option(names = "--file", required = true, description = "The JSON written by export.")
  Path file;

  @ArgGroup(exclusive = true)
  ResetCommand.Mode mode = new ResetCommand.Mode();

  @Override
  public Integer call() {
    Map<TopicPartition, Long> positions = ExportFormat.read(readJson(), file.toString());
    try (OffsetStore store = options.open()) {
      return Positions.apply(
          store, options.group, positions, mode.execute, spec.commandLine().getOut());
    }
  }

  private JsonNode readJson() {
    try {
      return CommitCodec.MAPPER.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new CliException("cannot read " + file + ": no such file", e);
    } catch (JsonProcessingException e) {
      throw new CliException(
          file
              + " is not valid JSON: "
              + e.getOriginalMessage()
              + " at line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr(),
          e);
    } catch (IOException e) {
      throw new CliException("cannot read " + file + ": " + e, e);
    }
  }
}
