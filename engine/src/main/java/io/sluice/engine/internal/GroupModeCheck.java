package io.sluice.engine.internal;

import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.internal.MapWithStateDStreamImpl;
import io.sluice.engine.dstream.internal.OutputOperation;
import io.sluice.engine.dstream.internal.ReducedWindowedDStream;
import io.sluice.engine.dstream.internal.UpdateStateByKeyDStream;
import io.sluice.engine.dstream.internal.WindowedDStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Refuses, at {@code start()}, keyed state and windows over an input whose partitions this process
 * shares with other processes ({@link InputDStream#sharesPartitions()}, a Kafka direct stream in
 * group mode): their past batches may have been read by another process, and state does not move
 * with the partitions yet, so their results would be partial without any error.
 */
final class GroupModeCheck {

  private GroupModeCheck() {}

  /** Throws {@link IllegalStateException} naming every such operator and its input. */
  static void verify(DStreamGraph graph) {
    Set<String> problems = new LinkedHashSet<>();
    for (OutputOperation<?> op : graph.outputs()) {
      visit(op.stream(), problems);
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          String.join("; ", problems)
              + ". Keyed state and windows do not move with partitions between processes yet: run"
              + " such a pipeline in one process (with StreamingContext.Builder.leaderElection for a"
              + " standby), or keep group mode for stateless pipelines");
    }
  }

  private static void visit(DStream<?> stream, Set<String> problems) {
    String kind = kind(stream);
    if (kind != null) {
      for (InputDStream<?, ?> in : inputsOf(stream)) {
        if (in.sharesPartitions()) {
          problems.add(
              kind
                  + " '"
                  + stream.name()
                  + "' reads input '"
                  + in.name()
                  + "', whose partitions are shared with other processes (group mode)");
        }
      }
    }
    for (DStream<?> parent : stream.dependencies()) {
      visit(parent, problems);
    }
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
