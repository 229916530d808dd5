package io.sluice.engine.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.dstream.internal.OutputOperation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
  private final boolean scoped; // several committing outputs, each for the inputs it reads

  private CommitOwnership(Map<String, String> committerByInput) {
    this(committerByInput, false);
  }

  private CommitOwnership(Map<String, String> committerByInput, boolean scoped) {
    this.committerByInput = Map.copyOf(committerByInput);
    this.scoped = scoped;
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
    List<String> committing = new ArrayList<>();
    for (OutputOperation<?> op : graph.outputs()) {
      Optional<CommitTarget> target =
          graph.batchOutputOf(op.name()).flatMap(BatchOutput::offsetCommitTarget);
      if (target.isPresent()) {
        committing.add(op.name());
        ownerByTarget.putIfAbsent(target.get(), op.name());
      }
    }
    if (committing.size() > 1) {
      if (!graph.inputs().isEmpty()
          && graph.inputs().stream().allMatch(InputDStream::sharesPartitions)) {
        return resolveScoped(ctx, graph);
      }
      String first = committing.get(0);
      String second = committing.get(1);
      CommitTarget firstTarget = targetOf(graph, first);
      CommitTarget secondTarget = targetOf(graph, second);
      String same = firstTarget.equals(secondTarget) ? " (the same place)" : "";
      throw new IllegalStateException(
          "context '"
              + ctx.appName()
              + "': output operations '"
              + first
              + "' and '"
              + second
              + "' both commit the batch's offsets inside their transactions, to "
              + firstTarget
              + " and to "
              + secondTarget
              + same
              + "; each input's progress must live in one"
              + " place and be written once per batch. Write both results through one transactional sink, or make"
              + " one of them idempotent or at-least-once (with group-mode inputs only, each may commit the"
              + " inputs it reads)");
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

  private static CommitTarget targetOf(DStreamGraph graph, String op) {
    return graph.batchOutputOf(op).flatMap(BatchOutput::offsetCommitTarget).orElseThrow();
  }

  /**
   * Several committing outputs, every input in group mode (whose progress each process keeps per
   * input, with no batch replayed from the batch log): each input's offsets are committed by the
   * one committing output that reads it, in that output's transaction; a batch's other inputs are
   * none of its business. An input read by no committing output, or by several, is refused.
   */
  private static CommitOwnership resolveScoped(StreamingContext ctx, DStreamGraph graph) {
    Map<String, String> committers = new HashMap<>();
    for (InputDStream<?, ?> in : graph.inputs()) {
      List<String> readers = new ArrayList<>();
      for (OutputOperation<?> op : graph.outputs()) {
        if (graph.batchOutputOf(op.name()).flatMap(BatchOutput::offsetCommitTarget).isPresent()
            && reads(op.stream(), in)) {
          readers.add(op.name());
        }
      }
      if (readers.size() != 1) {
        throw new IllegalStateException(
            "context '"
                + ctx.appName()
                + "': input '"
                + in.name()
                + "' is read by "
                + (readers.isEmpty() ? "none" : readers.size() + " (" + readers + ")")
                + " of the output operations that commit offsets in their transactions; with several"
                + " such outputs, each group-mode input must be read by exactly one of them, which"
                + " commits its offsets");
      }
      String owner = readers.get(0);
      CommitTarget target = targetOf(graph, owner);
      Optional<CommitTarget> own = in.offsetCommitTarget();
      if (own.isPresent() && !own.get().equals(target)) {
        throw new IllegalStateException(
            "context '"
                + ctx.appName()
                + "': input '"
                + in.name()
                + "' keeps its offsets in "
                + own.get()
                + ", but output operation '"
                + owner
                + "', which reads it, commits them to "
                + target
                + " inside its transaction. A stream's progress must live in one place, the one it"
                + " restarts from");
      }
      committers.put(in.name(), owner);
    }
    return new CommitOwnership(committers, true);
  }

  private static boolean reads(DStream<?> stream, InputDStream<?, ?> input) {
    if (stream == input) {
      return true;
    }
    for (DStream<?> parent : stream.dependencies()) {
      if (reads(parent, input)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The batch as output operation {@code op} sees it: with several committing outputs, a committing
   * output sees only the plans of the inputs it commits, so that it commits their offsets and no
   * other's; otherwise the whole batch.
   */
  Batch batchFor(String op, Batch batch) {
    if (!scoped || !committerByInput.containsValue(op)) {
      return batch;
    }
    Map<String, Object> plans = new LinkedHashMap<>();
    batch
        .plans()
        .forEach(
            (input, plan) -> {
              if (op.equals(committerByInput.get(input))) {
                plans.put(input, plan);
              }
            });
    return new Batch(batch.id(), batch.time(), plans);
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
