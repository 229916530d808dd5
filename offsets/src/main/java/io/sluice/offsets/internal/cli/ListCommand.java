package io.sluice.offsets.internal.cli;

import io.sluice.offsets.OffsetStore;
import java.io.PrintWriter;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code sluice offsets list}: the group's committed offsets, with the lag when a broker is given.
 */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "Show the group's committed offsets.")
public final class ListCommand implements Callable<Integer> {

  @Mixin StoreOptions options;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (OffsetStore store = options.openReadOnly()) {
      Map<TopicPartition, Long> committed = store.committed(options.group);
      OptionalLong last = store.lastBatchId(options.group);
      out.println(
          "group '"
              + options.group
              + "' in "
              + store.describe()
              + ", last batch "
              + (last.isPresent() ? last.getAsLong() : "none"));
      if (committed.isEmpty()) {
        out.println("no committed offsets");
        out.flush();
        return 0;
      }
      if (options.bootstrapServers == null) {
        Table table = new Table("TOPIC", "PARTITION", "OFFSET");
        Positions.sorted(committed).forEach((tp, o) -> table.row(tp.topic(), tp.partition(), o));
        table.print(out);
      } else {
        try (BrokerOffsets broker = options.broker("lag")) {
          java.util.Set<String> known = broker.topics();
          Map<TopicPartition, Long> ends =
              broker.latest(
                  committed.keySet().stream().filter(tp -> known.contains(tp.topic())).toList());
          Table table = new Table("TOPIC", "PARTITION", "OFFSET", "END", "LAG");
          Positions.sorted(committed)
              .forEach(
                  (tp, o) -> {
                    Long end = ends.get(tp);
                    table.row(
                        tp.topic(),
                        tp.partition(),
                        o,
                        end,
                        end == null ? null : Math.max(0, end - o));
                  });
          table.print(out);
        }
      }
      return 0;
    }
  }
}
