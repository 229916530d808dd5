package io.sluice.offsets.internal.cli;

import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
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
 * {@code sluice offsets reset}: moves the group's positions; a dry run unless {@code --execute}.
 */
@Command(
    name = "reset",
    mixinStandardHelpOptions = true,
    description =
        "Move the group's offsets. Prints the before/after table; changes nothing without --execute. "
            + "Stop the stream first: a reset fences a running driver.")
public final class ResetCommand implements Callable<Integer> {

  @Mixin StoreOptions options;
  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  @Option(
      names = "--topic",
      description = "The topic to reset; default: every topic the group has committed.")
  String topic;

  @ArgGroup(exclusive = true)
  Mode mode = new Mode();

  /** Exactly one target. */
  static final class Target {
    @Option(
        names = "--to-earliest",
        required = true,
        description = "To the log start (needs --bootstrap-servers).")
    boolean earliest;

    @Option(
        names = "--to-latest",
        required = true,
        description = "To the log end (needs --bootstrap-servers).")
    boolean latest;

    @Option(
        names = "--to-datetime",
        required = true,
        paramLabel = "T",
        description =
            "To the first offset at or after T, e.g. 2026-11-20T10:00:00Z (needs --bootstrap-servers).")
    String datetime;

    @Option(
        names = "--by-duration",
        required = true,
        paramLabel = "D",
        description =
            "To the first offset at or after now minus D, e.g. 2h or PT30M (needs --bootstrap-servers).")
    String duration;

    @Option(
        names = "--to-batch",
        required = true,
        paramLabel = "N",
        description = "To where saved batch N started (from the store's history).")
    Long batch;

    @Option(
        names = "--to-offset",
        required = true,
        paramLabel = "P:O",
        split = ",",
        description =
            "Partition P of --topic to offset O; repeatable or comma-separated. With "
                + "--bootstrap-servers, O must lie within the partition's log [start, end].")
    List<String> offsets;
  }

  /** Dry run (default) or execute. */
  static final class Mode {
    @Option(names = "--dry-run", description = "Only print the before/after table (the default).")
    boolean dryRun;

    @Option(names = "--execute", description = "Apply the change.")
    boolean execute;
  }

  @Override
  public Integer call() {
    try (OffsetStore store = options.open()) {
      Map<TopicPartition, Long> positions = resolve(store);
      return Positions.apply(
          store, options.group, positions, mode.execute, spec.commandLine().getOut());
    }
  }

  private Map<TopicPartition, Long> resolve(OffsetStore store) {
    if (target.batch != null) {
      Map<TopicPartition, Long> result = new LinkedHashMap<>();
      for (OffsetRange r : OffsetStores.rangesOfBatch(store, options.group, target.batch)) {
        if (topic == null || topic.equals(r.topic())) {
          result.put(r.topicPartition(), r.fromOffset());
        }
      }
      return result;
    }
    if (target.offsets != null) {
      return withinLog(explicitOffsets());
    }
    String what =
        target.earliest
            ? "--to-earliest"
            : target.latest
                ? "--to-latest"
                : target.datetime != null ? "--to-datetime" : "--by-duration";
    Instant time =
        target.datetime != null
            ? CliParsers.instant("--to-datetime", target.datetime)
            : target.duration != null
                ? Instant.now().minus(CliParsers.duration("--by-duration", target.duration))
                : null;
    try (BrokerOffsets broker = options.broker(what)) {
      Collection<TopicPartition> partitions = partitions(store, broker);
      if (target.earliest) {
        return broker.earliest(partitions);
      }
      if (target.latest) {
        return broker.latest(partitions);
      }
      return broker.at(partitions, time);
    }
  }

  private Collection<TopicPartition> partitions(OffsetStore store, BrokerOffsets broker) {
    if (topic != null) {
      return broker.partitions(topic);
    }
    List<TopicPartition> committed = new ArrayList<>(store.committed(options.group).keySet());
    if (committed.isEmpty()) {
      throw new CliException(
          "group '"
              + options.group
              + "' has no committed offsets in "
              + store.describe()
              + ": name the partitions with --topic");
    }
    return committed;
  }

  /**
   * Refuses an offset outside its partition's log {@code [start, end]}: the stream would fail or
   * skip there on its next read. Checked when the broker is known (always for --store kafka);
   * otherwise the offsets are taken as given, with a note on stderr.
   */
  private Map<TopicPartition, Long> withinLog(Map<TopicPartition, Long> positions) {
    if (options.bootstrapServers == null || options.bootstrapServers.isBlank()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          "sluice: note: --to-offset not checked against the log of topic '"
              + topic
              + "' (add --bootstrap-servers to check it)");
      err.flush();
      return positions;
    }
    try (BrokerOffsets broker = options.broker("--to-offset")) {
      broker.checkWithinLog(positions);
    }
    return positions;
  }

  private Map<TopicPartition, Long> explicitOffsets() {
    if (topic == null) {
      throw new CliException("--to-offset needs --topic");
    }
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    for (String spec : target.offsets) {
      String[] parts = spec.split(":");
      try {
        if (parts.length != 2) {
          throw new NumberFormatException();
        }
        int partition = Integer.parseInt(parts[0].trim());
        long offset = Long.parseLong(parts[1].trim());
        if (partition < 0 || offset < 0) {
          throw new CliException(
              "--to-offset needs a partition and an offset >= 0, was '" + spec + "'");
        }
        result.put(new TopicPartition(topic, partition), offset);
      } catch (NumberFormatException e) {
        throw new CliException(
            "--to-offset must be PARTITION:OFFSET like 0:1200, was '" + spec + "'");
      }
    }
    return result;
  }
}
