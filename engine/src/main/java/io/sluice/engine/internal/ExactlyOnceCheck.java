package io.sluice.engine.internal;

import io.sluice.engine.BatchOutput;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.internal.OutputOperation;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The start-time check of a context built with {@code exactlyOnce(true)}: it names every piece that
 * keeps the pipeline from exactly-once, instead of letting it run with a weaker guarantee.
 */
final class ExactlyOnceCheck {

  private ExactlyOnceCheck() {}

  /** Throws {@link IllegalStateException} listing the missing pieces; no-op unless required. */
  static void verify(StreamingContext ctx, DStreamGraph graph) {
    if (!ctx.exactlyOnce()) {
      return;
    }
    List<String> gaps = gaps(ctx, graph);
    if (!gaps.isEmpty()) {
      throw new IllegalStateException(
          "context '" + ctx.appName() + "' requires exactly-once, but: " + String.join("; ", gaps));
    }
  }

  static List<String> gaps(StreamingContext ctx, DStreamGraph graph) {
    List<String> gaps = new ArrayList<>();
    if (ctx.checkpointDir().isEmpty()) {
      gaps.add(
          "no checkpointDir is set, so a crashed batch cannot be replayed with the same ranges");
    }
    if (!ctx.receiverWriteAheadLog()) {
      for (io.sluice.engine.dstream.InputDStream<?, ?> in : graph.inputs()) {
        if (in instanceof io.sluice.engine.receiver.internal.ReceiverInputDStream<?>) {
          gaps.add(
              "receiver stream '"
                  + in.name()
                  + "' keeps its blocks in memory only; set receiverWriteAheadLog(true)");
        }
      }
    }
    Optional<String> committer = CommitOwnership.transactionalCommitter(graph);
    Optional<BatchOutput<?>> committing = committer.flatMap(graph::batchOutputOf);
    if (committing.isPresent()
        && committing.get().guarantee() == DeliveryGuarantee.EXACTLY_ONCE
        && !committing.get().commitsSequences()) {
      for (io.sluice.engine.dstream.InputDStream<?, ?> in : graph.inputs()) {
        if (in.sequenced()) {
          gaps.add(
              "input '"
                  + in.name()
                  + "' has no offsets, and output operation '"
                  + committer.get()
                  + "' ("
                  + committing.get().describe()
                  + ") cannot commit its progress in its transaction; write it through a sink that can"
                  + " (the exactly-once JdbcSink with its offset store)");
        }
      }
    }
    for (OutputOperation<?> op : graph.outputs()) {
      Optional<BatchOutput<?>> output = graph.batchOutputOf(op.name());
      if (output.isEmpty()) {
        gaps.add(
            "output operation '"
                + op.name()
                + "' (print/foreachBatch/saveAsTextFiles) declares no"
                + " guarantee; write through writeTo(sink) with an exactly-once or idempotent sink");
        continue;
      }
      BatchOutput<?> o = output.get();
      if (o.guarantee() == DeliveryGuarantee.AT_LEAST_ONCE) {
        gaps.add(
            "output operation '" + op.name() + "' (" + o.describe() + ") is only at-least-once");
      }
      for (String gap : o.exactlyOnceGaps()) {
        gaps.add("output operation '" + op.name() + "': " + gap);
      }
    }
    return gaps;
  }
}
