package io.sluice.status.internal;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.OutputOperationInfo;
import io.sluice.engine.StreamingListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Remembers the last {@link #capacity} batches as the listener bus reports them, and the errors
 * outside batches. Events arrive on {@code sluice-listener-bus}; the HTTP threads read snapshots.
 * Thread-safe (one lock, held briefly).
 */
final class BatchTracker implements StreamingListener {

  /** A batch's state as the page shows it. */
  enum State {
    QUEUED,
    RUNNING,
    COMPLETED,
    FAILED
  }

  /**
   * One batch, as last reported.
   *
   * @param info the newest info of the batch
   * @param state its state
   * @param failure why it failed, when it did
   * @param failedOutputs the output operations that failed, with their reasons
   */
  record Row(BatchInfo info, State state, String failure, List<String> failedOutputs) {}

  /**
   * An error outside a batch's jobs.
   *
   * @param time when it was reported (wall clock)
   * @param message its message
   */
  record ErrorRow(Instant time, String message) {}

  private final int capacity;
  private final LinkedHashMap<Long, Row> rows = new LinkedHashMap<>();
  private final Deque<ErrorRow> errors = new ArrayDeque<>();
  private final Set<String> inputs = new LinkedHashSet<>();
  private long completed;
  private long failed;
  private long lastCompleted = -1;

  BatchTracker(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public synchronized void onBatchSubmitted(BatchInfo batch) {
    put(batch, State.QUEUED, null);
  }

  @Override
  public synchronized void onBatchStarted(BatchInfo batch) {
    put(batch, State.RUNNING, null);
  }

  @Override
  public synchronized void onBatchCompleted(BatchInfo batch) {
    put(batch, State.COMPLETED, null);
    completed++;
    lastCompleted = Math.max(lastCompleted, batch.batchId());
  }

  @Override
  public synchronized void onBatchFailed(BatchInfo batch, Throwable cause) {
    put(batch, State.FAILED, describe(cause));
    failed++;
  }

  @Override
  public synchronized void onOutputOperationCompleted(OutputOperationInfo info) {
    Optional<String> reason = info.failureReason();
    Row row = rows.get(info.batchId());
    if (reason.isPresent() && row != null) {
      List<String> outputs = new ArrayList<>(row.failedOutputs());
      outputs.add(info.name() + ": " + reason.get());
      rows.put(
          info.batchId(), new Row(row.info(), row.state(), row.failure(), List.copyOf(outputs)));
    }
  }

  @Override
  public synchronized void onError(Throwable error) {
    errors.addLast(new ErrorRow(Instant.now(), describe(error)));
    while (errors.size() > capacity) {
      errors.removeFirst();
    }
  }

  private void put(BatchInfo batch, State state, String failure) {
    Row old = rows.get(batch.batchId());
    if (old != null && old.state().compareTo(state) > 0) {
      return; // a late event never moves a batch back
    }
    inputs.addAll(batch.inputRecords().keySet());
    rows.put(
        batch.batchId(),
        new Row(batch, state, failure, old == null ? List.of() : old.failedOutputs()));
    while (rows.size() > capacity) {
      rows.remove(rows.keySet().iterator().next());
    }
  }

  /** The message of {@code t}, and of its root cause when that says something more. */
  static String describe(Throwable t) {
    String message = t.getMessage() == null ? t.getClass().getName() : t.getMessage();
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != t) {
      String rootMessage = root.getClass().getName() + ": " + root.getMessage();
      if (!message.contains(String.valueOf(root.getMessage()))) {
        message = message + " — caused by " + rootMessage;
      }
    }
    return message;
  }

  /** The remembered batches, oldest first. */
  synchronized List<Row> rows() {
    return List.copyOf(rows.values());
  }

  /** The errors outside batches, oldest first. */
  synchronized List<ErrorRow> errors() {
    return List.copyOf(errors);
  }

  /** The input names seen in batches, in registration order. */
  synchronized List<String> inputs() {
    return List.copyOf(inputs);
  }

  /** Counters since the server attached. */
  synchronized Map<String, Long> counts() {
    Map<String, Long> out = new LinkedHashMap<>();
    out.put("batchesCompleted", completed);
    out.put("batchesFailed", failed);
    out.put("lastCompletedBatchId", lastCompleted);
    return out;
  }

  static Long millis(Optional<Duration> d) {
    return d.map(Duration::toMillis).orElse(null);
  }
}
