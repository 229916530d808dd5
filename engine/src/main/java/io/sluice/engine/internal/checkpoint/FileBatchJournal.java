package io.sluice.engine.internal.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.Batch;
import io.sluice.engine.internal.BatchJournal;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The durable {@link BatchJournal} under a checkpoint directory, on a {@link BatchLog}. Plans are
 * stored as JSON and read back into each input's plan type, matched by the input's stable name,
 * so a recompiled application with the same input names recovers its batches.
 *
 * <p>Thread-safe: the job generator plans and the job scheduler commits.
 */
public final class FileBatchJournal implements BatchJournal {

  /** Committed batches kept in the log besides the uncommitted ones. */
  static final int RETAINED_COMMITTED = 16;

  /** Clean every so many commits, so the rewrite cost is spread thin. */
  static final int CLEAN_EVERY = 64;

  private final BatchLog log;
  private final ObjectMapper mapper;
  private final Map<String, Class<?>> planTypes;
  private final Clock wallClock;
  private int commitsSinceClean;

  private FileBatchJournal(BatchLog log, ObjectMapper mapper, Map<String, Class<?>> planTypes, Clock wallClock) {
    this.log = log;
    this.mapper = mapper;
    this.planTypes = Map.copyOf(planTypes);
    this.wallClock = wallClock;
  }

  /**
   * Opens the journal in {@code dir} for an application whose inputs have the given plan types.
   *
   * @throws CheckpointException when the logs are unreadable, or hold plans of inputs the
   *     application no longer defines
   */
  public static FileBatchJournal open(Path dir, ObjectMapper mapper, Map<String, Class<?>> planTypes) {
    return new FileBatchJournal(BatchLog.open(dir, mapper, true), mapper, planTypes, Clock.systemUTC());
  }

  @Override
  public synchronized void planned(Batch batch) {
    Map<String, JsonNode> plans = new LinkedHashMap<>();
    batch.plans().forEach((name, plan) -> plans.put(name, mapper.valueToTree(plan)));
    log.appendPlanned(new PlannedBatch(batch.id(), batch.time(), plans));
  }

  @Override
  public synchronized void committed(long batchId) {
    log.appendCommitted(batchId, wallClock.instant());
    if (++commitsSinceClean >= CLEAN_EVERY) {
      log.clean(RETAINED_COMMITTED);
      commitsSinceClean = 0;
    }
  }

  @Override
  public synchronized Recovery recover() {
    Optional<Batch> latest = log.lastPlanned().map(this::toBatch);
    List<Batch> uncommitted = log.uncommitted().stream().map(this::toBatch).toList();
    if (latest.isEmpty() && log.lastCommitted() >= 0) {
      // Only commits survive (planned entries cleaned): continue the ids after them.
      latest = Optional.of(new Batch(log.lastCommitted(), Instant.EPOCH, Map.of()));
    }
    return new Recovery(latest, uncommitted);
  }

  private Batch toBatch(PlannedBatch planned) {
    Map<String, Object> plans = new LinkedHashMap<>();
    planned.plans().forEach((name, json) -> {
      Class<?> type = planTypes.get(name);
      if (type == null) {
        throw new CheckpointException("the batch log holds batch " + planned.batchId() + " with a plan for input '"
            + name + "', but the application defines no input of that name (inputs: "
            + new TreeSet<>(planTypes.keySet()) + "). Keep input names stable across versions, or remove the"
            + " checkpoint directory to start from the offset store");
      }
      try {
        plans.put(name, mapper.treeToValue(json, type));
      } catch (Exception e) {
        throw new CheckpointException("cannot read the plan of input '" + name + "' in batch " + planned.batchId()
            + " as " + type.getName() + ": " + e.getMessage());
      }
    });
    return new Batch(planned.batchId(), planned.time(), plans);
  }

  @Override
  public synchronized void close() {
    // every append is already forced to disk; nothing is buffered
  }
}
