package io.sluice.offsets.internal.cli;

import io.sluice.offsets.OffsetStore;
import java.io.PrintWriter;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;

/** Shows and applies a change of positions: the before/after table, then a dry run or the reset. */
final class Positions {

  static final Comparator<TopicPartition> ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  private Positions() {}

  static Map<TopicPartition, Long> sorted(Map<TopicPartition, Long> positions) {
    Map<TopicPartition, Long> sorted = new TreeMap<>(ORDER);
    sorted.putAll(positions);
    return sorted;
  }

  /** Prints the table and, when {@code execute}, resets the group; returns the exit code. */
  static int apply(
      OffsetStore store,
      String group,
      Map<TopicPartition, Long> target,
      boolean execute,
      PrintWriter out) {
    if (target.isEmpty()) {
      throw new CliException("nothing to change: no partitions selected for group '" + group + "'");
    }
    Map<TopicPartition, Long> before = store.committed(group, target.keySet());
    Table table = new Table("TOPIC", "PARTITION", "CURRENT", "NEW");
    sorted(target).forEach((tp, o) -> table.row(tp.topic(), tp.partition(), before.get(tp), o));
    out.println(
        (execute ? "resetting" : "would reset")
            + " group '"
            + group
            + "' in "
            + store.describe()
            + ":");
    table.print(out);
    if (!execute) {
      out.println("dry run: nothing changed; add --execute to apply");
      out.flush();
      return 0;
    }
    store.reset(group, target);
    out.println("done: group '" + group + "' now at batch " + store.lastBatchId(group).orElse(-1));
    out.flush();
    return 0;
  }
}
