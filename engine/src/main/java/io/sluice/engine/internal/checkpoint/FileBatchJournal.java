package io.sluice.engine.internal.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.Batch;
import io.sluice.engine.CheckpointException;
import io.sluice.engine.internal.BatchJournal;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The durable {@link BatchJournal} under a checkpoint directory, on a {@link BatchLog}. Plans are
 * stored as JSON and read back into each input's plan type, matched by the input's stable name, so
 * a recompiled application with the same input names recovers its batches.
 *
 * <p>Thread-safe: the job generator plans and the job scheduler commits.
 */
public final class FileBatchJournal implements BatchJournal {

  /** Committed batches kept in the log besides the uncommitted ones. */
  static final int RETAINED_COMMITTED = 16;

  /** Clean every so many commits, so the rewrite cost is spread thin. */
  static final int CLEAN_EVERY = 64;

  private static final org.slf4j.Logger LOGGER =
      org.slf4j.LoggerFactory.getLogger(FileBatchJournal.class);

  private final CheckpointLock lock;
  private final BatchLog log;
  private final ObjectMapper mapper;
  private final Map<String, Class<?>> planTypes;
  private final Clock wallClock;
  private int commitsSinceClean;
  private volatile int retainCommitted = RETAINED_COMMITTED;

  private FileBatchJournal(
      CheckpointLock lock,
      BatchLog log,
      ObjectMapper mapper,
      Map<String, Class<?>> planTypes,
      Clock wallClock) {
    this.lock = lock;
    this.log = log;
    this.mapper = mapper;
    this.planTypes = Map.copyOf(planTypes);
    this.wallClock = wallClock;
  }

  /**
   * Opens the journal in {@code dir} for an application whose inputs have the given plan types.
   *
   * <p>Locks the directory for the journal's life (until {@link #close()}) after checking it is
   * writable.
   *
   * @throws CheckpointException when the directory is not writable, is used by another running
   *     context, or its logs are unreadable
   */
  public static FileBatchJournal open(
      Path dir, ObjectMapper mapper, Map<String, Class<?>> planTypes) {
    CheckpointLock lock = CheckpointLock.acquire(dir);
    try {
      return new FileBatchJournal(
          lock, BatchLog.open(dir, mapper, true), mapper, planTypes, Clock.systemUTC());
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
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
      commitsSinceClean = 0;
      try {
        log.clean(retainCommitted);
      } catch (RuntimeException e) {
        // The batch is committed and both files are intact (rewrites are atomic): only the cleaning
        // failed.
        LOGGER.warn(
            "cleaning the checkpoint in {} failed; its logs keep growing until a later cleaning succeeds",
            lock.dir(),
            e);
      }
    }
  }

  @Override
  public synchronized void dropped(long throughBatchId) {
    log.appendDropped(throughBatchId, wallClock.instant());
  }

  @Override
  public void retainCommitted(int batches) {
    retainCommitted = Math.max(RETAINED_COMMITTED, batches);
  }

  @Override
  public synchronized Recovery recover() {
    List<Batch> planned = log.planned().stream().map(this::toBatch).toList();
    return new Recovery(planned, log.lastCommitted());
  }

  private Batch toBatch(PlannedBatch planned) {
    Map<String, Object> plans = new LinkedHashMap<>();
    planned
        .plans()
        .forEach(
            (name, json) -> {
              Class<?> type = planTypes.get(name);
              if (type == null) {
                throw new CheckpointException(
                    "the batch log holds batch "
                        + planned.batchId()
                        + " with a plan for input '"
                        + name
                        + "', but the application defines no input of that name (inputs: "
                        + new TreeSet<>(planTypes.keySet())
                        + "). Keep input names stable across versions, or remove the"
                        + " checkpoint directory to start from the offset store");
              }
              try {
                plans.put(name, mapper.treeToValue(json, type));
              } catch (Exception e) {
                throw new CheckpointException(
                    "cannot read the plan of input '"
                        + name
                        + "' in batch "
                        + planned.batchId()
                        + " as "
                        + type.getName()
                        + ": "
                        + e.getMessage());
              }
            });
    return new Batch(planned.batchId(), planned.time(), plans);
  }

  @Override
  public synchronized void close() {
    // every append is already forced to disk; nothing is buffered
    lock.close();
  }
}
