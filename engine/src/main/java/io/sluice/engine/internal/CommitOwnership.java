package io.sluice.engine.internal;

import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.internal.OutputOperation;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who commits each input's offsets, decided once at start: the input itself, or the one output that
 * commits them inside its own transaction. Each input's offsets are written once per batch, to the
 * place the input reads its position from at start; {@link #resolve} refuses a graph where that
 * cannot hold.
 */
final class CommitOwnership {

  private final Map<String, String> committerByInput;

  private CommitOwnership(Map<String, String> committerByInput) {
    this.committerByInput = Map.copyOf(committerByInput);
  }

  /** Nobody but the inputs commits (before start). */
  static CommitOwnership none() {
    return new CommitOwnership(Map.of());
  }

  /**
   * Decides the committers.
   *
   * @throws IllegalStateException when two outputs commit the offsets, or an input keeps its
   *     progress in another place than the output that commits its offsets
   */
  static CommitOwnership resolve(StreamingContext ctx, DStreamGraph graph) {
    Map<CommitTarget, String> ownerByTarget = new LinkedHashMap<>();
    for (OutputOperation<?> op : graph.outputs()) {
      Optional<CommitTarget> target =
          graph.batchOutputOf(op.name()).flatMap(BatchOutput::offsetCommitTarget);
      if (target.isEmpty()) {
        continue;
      }
      if (!ownerByTarget.isEmpty()) {
        Map.Entry<CommitTarget, String> first = ownerByTarget.entrySet().iterator().next();
        String same = first.getKey().equals(target.get()) ? " (the same place)" : "";
        throw new IllegalStateException(
            "context '"
                + ctx.appName()
                + "': output operations '"
                + first.getValue()
                + "' and '"
                + op.name()
                + "' both commit the batch's offsets inside their transactions, to "
                + first.getKey()
                + " and to "
                + target.get()
                + same
                + "; each input's progress must live in one"
                + " place and be written once per batch. Write both results through one transactional sink, or make"
                + " one of them idempotent or at-least-once");
      }
      ownerByTarget.put(target.get(), op.name());
    }
    Map<String, String> committers = new HashMap<>();
    if (ownerByTarget.isEmpty()) {
      return new CommitOwnership(committers);
    }
    Map.Entry<CommitTarget, String> owner = ownerByTarget.entrySet().iterator().next();
    boolean ownerCommitsSequences =
        graph.batchOutputOf(owner.getValue()).map(BatchOutput::commitsSequences).orElse(false);
    for (InputDStream<?, ?> in : graph.inputs()) {
      Optional<CommitTarget> own = in.offsetCommitTarget();
      if (own.isEmpty()) {
        if (in.sequenced() && ownerCommitsSequences) {
          committers.put(in.name(), owner.getValue());
        }
        continue;
      }
      if (!own.get().equals(owner.getKey())) {
        throw new IllegalStateException(
            "context '"
                + ctx.appName()
                + "': input '"
                + in.name()
                + "' keeps its"
                + " offsets in "
                + own.get()
                + ", but output operation '"
                + owner.getValue()
                + "' commits them to "
                + owner.getKey()
                + " inside its transaction. A stream's progress must live in one place, the one it"
                + " restarts from: give the stream the same offset store as the sink (DirectStreamOptions"
                + ".offsetStore(...)), or, for the exactly-once KafkaSink, no offset store or OffsetStores.kafka(...)"
                + " on the same cluster");
      }
      committers.put(in.name(), owner.getValue());
    }
    return new CommitOwnership(committers);
  }

  /**
   * The output operation that commits the batch's offsets inside its transaction, if any, and
   * whether it also commits sequenced inputs' progress.
   */
  static Optional<String> transactionalCommitter(DStreamGraph graph) {
    for (OutputOperation<?> op : graph.outputs()) {
      if (graph.batchOutputOf(op.name()).flatMap(BatchOutput::offsetCommitTarget).isPresent()) {
        return Optional.of(op.name());
      }
    }
    return Optional.empty();
  }

  /**
   * The output operation that commits {@code input}'s offsets, or empty when the input commits
   * them.
   */
  Optional<String> committerOf(InputDStream<?, ?> input) {
    return Optional.ofNullable(committerByInput.get(input.name()));
  }
}
