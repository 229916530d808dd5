package io.sluice.offsets.internal.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.internal.CommitCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice offsets export}: the group's offsets as JSON, to stdout or a file. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = "Write the group's offsets as JSON.")
public final class ExportCommand implements Callable<Integer> {

  @Mixin StoreOptions options;
  @Spec CommandSpec spec;

  @Option(names = "--file", description = "Write here instead of stdout.")
  Path file;

  @Override
  public Integer call() throws IOException {
    ObjectNode json;
    try (OffsetStore store = options.openReadOnly()) {
      json =
          ExportFormat.write(
              options.group,
              store.describe(),
              store.lastBatchId(options.group),
              store.committed(options.group));
    }
    String text = CommitCodec.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json);
    PrintWriter out = spec.commandLine().getOut();
    if (file == null) {
      out.println(text);
    } else {
      try {
        Files.writeString(file, text + System.lineSeparator());
      } catch (IOException e) {
        throw new CliException("cannot write " + file + ": " + e.getMessage(), e);
      }
      out.println(
          "wrote "
              + json.path("offsets").size()
              + " offsets of group '"
              + options.group
              + "' to "
              + file);
    }
    out.flush();
    return 0;
  }
}
