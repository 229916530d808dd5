package io.sluice.engine.internal;

import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.PairDStream;
import io.sluice.engine.dstream.internal.MapWithStateDStreamImpl;
import io.sluice.engine.dstream.internal.OutputOperation;
import io.sluice.engine.dstream.internal.ReducedWindowedDStream;
import io.sluice.engine.dstream.internal.TransformedDStream;
import io.sluice.engine.dstream.internal.UpdateStateByKeyDStream;
import io.sluice.engine.dstream.internal.WindowedDStream;
import io.sluice.engine.state.StateChangelog;
import io.sluice.engine.state.internal.StateOperator;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks, at {@code start()}, the keyed state and windows over an input whose partitions this
 * process shares with other processes ({@link InputDStream#sharesPartitions()}, a Kafka direct
 * stream in group mode). A {@code mapWithState} or {@code updateStateByKey} that reads such an
 * input through one-to-one transformations only, and whose input's offsets are committed by an
 * output keeping a {@link StateChangelog}, keeps its state per input partition through that
 * changelog, so the state moves with the partition. Everything else is refused: windows (their past
 * batches may have been read by another process), and state after a shuffle or a union (its keys no
 * longer follow the input's partitions).
 */
final class GroupModeCheck {

  /** The operations that keep each record in its input partition. */
  private static final Set<String> ONE_TO_ONE =
      Set.of(
          "map", "flatMap", "filter", "mapPartitions", "mapToPair", "mapValues", "flatMapValues");

  private GroupModeCheck() {}

  /**
   * Makes each allowed state operator follow its input's partitions; throws {@link
   * IllegalStateException} naming every refused operator and its input.
   */
  static void verify(DStreamGraph graph, CommitOwnership ownership) {
    verify(graph, ownership, false);
  }

  /**
   * As {@link #verify(DStreamGraph, CommitOwnership)}; for a context that is one candidate of a
   * leader election ({@code standby}), keyed state over a Kafka input whose committing output keeps
   * a changelog follows the input's partitions as well, so that a standby that takes over restores
   * the state from the changelog instead of needing the leader's checkpoint directory. Elsewhere
   * the state stays in the checkpoint directory.
   */
  static void verify(DStreamGraph graph, CommitOwnership ownership, boolean standby) {
    Set<String> problems = new LinkedHashSet<>();
    for (OutputOperation<?> op : graph.outputs()) {
      visit(graph, ownership, op.stream(), problems);
    }
    if (standby) {
      for (OutputOperation<?> op : graph.outputs()) {
        followChangelogsOfStandby(graph, ownership, op.stream());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(String.join("; ", problems));
    }
  }

  private static void visit(
      DStreamGraph graph, CommitOwnership ownership, DStream<?> stream, Set<String> problems) {
    String kind = kind(stream);
    if (kind != null) {
      List<InputDStream<?, ?>> shared =
          inputsOf(stream).stream().filter(InputDStream::sharesPartitions).toList();
      if (!shared.isEmpty()) {
        String problem =
            stream instanceof WindowedDStream<?> || stream instanceof ReducedWindowedDStream<?, ?>
                ? kind
                    + " '"
                    + stream.name()
                    + "' reads input '"
                    + shared.get(0).name()
                    + "', whose partitions are shared with other processes (group mode): windows"
                    + " do not move with partitions; run such a pipeline in one process (with"
                    + " StreamingContext.Builder.leaderElection for a standby)"
                : followSources(graph, ownership, stream, kind, shared);
        if (problem != null) {
          problems.add(problem);
        }
      }
    }
    for (DStream<?> parent : stream.dependencies()) {
      visit(graph, ownership, parent, problems);
    }
  }

  private static void followChangelogsOfStandby(
      DStreamGraph graph, CommitOwnership ownership, DStream<?> stream) {
    if (kind(stream) != null
        && !(stream instanceof WindowedDStream<?> || stream instanceof ReducedWindowedDStream<?, ?>)
        && !operatorOf(stream).followsSources()
        && !operatorOf(stream).hasInitialState()) {
      List<InputDStream<?, ?>> inputs = inputsOf(stream);
      if (inputs.size() == 1
          && inputs.get(0).offsetCommitTarget().isPresent()
          && rekeyingStep(stream.dependencies().get(0)) == null) {
        ownership
            .committerOf(inputs.get(0))
            .flatMap(graph::batchOutputOf)
            .flatMap(o -> o.stateChangelog())
            .ifPresent(changelog -> operatorOf(stream).followSources(changelog));
      }
    }
    for (DStream<?> parent : stream.dependencies()) {
      followChangelogsOfStandby(graph, ownership, parent);
    }
  }

  /** Makes the state operator {@code stream} follow its input's partitions, or says why not. */
  private static String followSources(
      DStreamGraph graph,
      CommitOwnership ownership,
      DStream<?> stream,
      String kind,
      List<InputDStream<?, ?>> shared) {
    String what = kind + " '" + stream.name() + "' over input '" + shared.get(0).name() + "'";
    String rekey = rekeyingStep(stream.dependencies().get(0));
    if (rekey != null) {
      return what
          + " (group mode) follows '"
          + rekey
          + "', which moves records between partitions: keyed state in group mode must keep the"
          + " input's partitioning. Re-key through a Kafka topic keyed by the new key"
          + " (KafkaThrough.through(stream, topic, keyFn, ...) in sluice-sinks) and keep the"
          + " state over the stream it returns";
    }
    if (operatorOf(stream).hasInitialState()) {
      return what
          + " (group mode) has an initial state: each partition's state comes from the changelog"
          + " when a process takes the partition, so an initial state has no place to go; seed"
          + " the state by writing records to the input instead";
    }
    StateChangelog changelog =
        ownership
            .committerOf(shared.get(0))
            .flatMap(graph::batchOutputOf)
            .flatMap(o -> o.stateChangelog())
            .orElse(null);
    if (changelog == null) {
      return what
          + " (group mode) needs an output that commits the input's offsets and keeps the state's"
          + " changelog in the same transaction (an exactly-once KafkaSink, or an exactly-once"
          + " JdbcSink with the stream's JDBC offset store), so that a partition's state moves"
          + " with it between processes";
    }
    operatorOf(stream).followSources(changelog);
    return null;
  }

  /**
   * The first operation between a state operator's parent and its input that may move records to
   * another partition, or null when there is none.
   */
  private static String rekeyingStep(DStream<?> stream) {
    DStream<?> at = stream;
    while (!(at instanceof InputDStream<?, ?>)) {
      if (at instanceof TransformedDStream<?, ?> t) {
        if (!ONE_TO_ONE.contains(t.kind()) || t.dependencies().size() != 1) {
          return t.kind() + " '" + t.name() + "'";
        }
      } else if (!(at instanceof PairDStream<?, ?>)) {
        return at.getClass().getSimpleName() + " '" + at.name() + "'";
      }
      at = at.dependencies().get(0);
    }
    return null;
  }

  private static StateOperator<?, ?> operatorOf(DStream<?> stream) {
    if (stream instanceof MapWithStateDStreamImpl<?, ?, ?, ?> m) {
      return m.operator();
    }
    return ((UpdateStateByKeyDStream<?, ?, ?>) stream).operator();
  }

  private static String kind(DStream<?> stream) {
    if (stream instanceof MapWithStateDStreamImpl<?, ?, ?, ?>) {
      return "mapWithState";
    }
    if (stream instanceof UpdateStateByKeyDStream<?, ?, ?>) {
      return "updateStateByKey";
    }
    if (stream instanceof WindowedDStream<?> || stream instanceof ReducedWindowedDStream<?, ?>) {
      return "window";
    }
    return null;
  }

  private static List<InputDStream<?, ?>> inputsOf(DStream<?> stream) {
    List<InputDStream<?, ?>> out = new ArrayList<>();
    collect(stream, out);
    return out;
  }

  private static void collect(DStream<?> stream, List<InputDStream<?, ?>> out) {
    if (stream instanceof InputDStream<?, ?> in) {
      if (!out.contains(in)) {
        out.add(in);
      }
      return;
    }
    for (DStream<?> parent : stream.dependencies()) {
      collect(parent, out);
    }
  }
}
