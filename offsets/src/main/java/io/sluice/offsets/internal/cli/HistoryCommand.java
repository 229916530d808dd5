package io.sluice.offsets.internal.cli;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice offsets history}: the group's committed batches, newest first. */
@Command(
    name = "history",
    mixinStandardHelpOptions = true,
    description = "Show the group's committed batches, newest first.")
public final class HistoryCommand implements Callable<Integer> {

  @Mixin StoreOptions options;
  @Spec CommandSpec spec;

  @Option(
      names = "--limit",
      defaultValue = "20",
      description = "How many batches; default ${DEFAULT-VALUE}.")
  int limit;

  @Override
  public Integer call() {
    if (limit <= 0) {
      throw new CliException("--limit must be > 0, was " + limit);
    }
    PrintWriter out = spec.commandLine().getOut();
    try (OffsetStore store = options.openReadOnly()) {
      List<BatchCommit> history = store.history(options.group, limit);
      out.println(
          "group '"
              + options.group
              + "' in "
              + store.describe()
              + ": "
              + history.size()
              + " batch"
              + (history.size() == 1 ? "" : "es")
              + " (newest first)");
      Table table = new Table("BATCH", "TIME", "RECORDS", "RANGES");
      for (BatchCommit c : history) {
        table.row(
            c.batchId(),
            c.batchTime(),
            c.ranges().stream().mapToLong(OffsetRange::count).sum(),
            c.ranges().stream().map(OffsetRange::toString).collect(Collectors.joining(", ")));
      }
      table.print(out);
      return 0;
    }
  }
}
