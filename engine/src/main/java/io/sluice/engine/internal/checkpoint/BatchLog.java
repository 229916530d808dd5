package io.sluice.engine.internal.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.engine.CheckpointException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The batch log and the commit log of a checkpoint directory: the durable half of the exactly-once
 * protocol. A batch's plan is appended (and fsynced) before any of its tasks runs; its id is
 * appended to the commit log once its outputs and offsets are committed. On start, every planned
 * batch above the last committed id is replayed with the same id and plans.
 *
 * <p>Files: {@code batches.log} and {@code commits.log}, both {@link CheckedLog}s.
 *
 * <p>Not thread-safe: the job generator thread owns it.
 */
public final class BatchLog {

  static final String BATCHES = "batches.log";
  static final String COMMITS = "commits.log";

  private final CheckedLog batches;
  private final CheckedLog commits;
  private final ObjectMapper mapper;
  private final List<PlannedBatch> planned = new ArrayList<>();
  private long lastCommitted = -1;
  private int commitEntries;

  private BatchLog(Path dir, ObjectMapper mapper, boolean fsync) {
    this.mapper = mapper;
    this.batches = new CheckedLog(dir.resolve(BATCHES), mapper, fsync);
    this.commits = new CheckedLog(dir.resolve(COMMITS), mapper, fsync);
  }

  /**
   * Opens (creating if needed) the logs in {@code dir} and reads them, repairing torn tails.
   *
   * @throws CheckpointException when a file is corrupt before its tail or newer than this code
   */
  public static BatchLog open(Path dir, ObjectMapper mapper, boolean fsync) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create checkpoint directory " + dir, e);
    }
    BatchLog log = new BatchLog(dir, mapper, fsync);
    log.load();
    return log;
  }

  private void load() {
    for (ObjectNode entry : batches.readAndRepair()) {
      Map<String, JsonNode> plans = new LinkedHashMap<>();
      entry.path("plans").fields().forEachRemaining(f -> plans.put(f.getKey(), f.getValue()));
      PlannedBatch batch =
          new PlannedBatch(
              entry.path("batchId").asLong(), Instant.parse(entry.path("time").asText()), plans);
      if (!planned.isEmpty() && batch.batchId() <= planned.get(planned.size() - 1).batchId()) {
        throw new CheckpointException(
            "batch log "
                + batches.file()
                + " holds batch "
                + batch.batchId()
                + " after batch "
                + planned.get(planned.size() - 1).batchId()
                + "; ids must increase");
      }
      planned.add(batch);
    }
    List<ObjectNode> commitList = commits.readAndRepair();
    commitEntries = commitList.size();
    for (ObjectNode entry : commitList) {
      lastCommitted = Math.max(lastCommitted, entry.path("batchId").asLong());
    }
  }

  /** Every retained planned batch, oldest first. */
  public List<PlannedBatch> planned() {
    return Collections.unmodifiableList(planned);
  }

  /** The newest planned batch, if any. */
  public Optional<PlannedBatch> lastPlanned() {
    return planned.isEmpty() ? Optional.empty() : Optional.of(planned.get(planned.size() - 1));
  }

  /** The highest batch id committed (or dropped), or -1 when none. */
  public long lastCommitted() {
    return lastCommitted;
  }

  /** Planned batches above the last committed id, oldest first: what recovery replays. */
  public List<PlannedBatch> uncommitted() {
    return planned.stream().filter(b -> b.batchId() > lastCommitted).toList();
  }

  /** The id the next new batch gets. */
  public long nextBatchId() {
    long lastPlannedId = lastPlanned().map(PlannedBatch::batchId).orElse(-1L);
    return Math.max(lastPlannedId, lastCommitted) + 1;
  }

  /** Durably records a batch's plan; must precede any task of the batch. */
  public void appendPlanned(PlannedBatch batch) {
    long next = nextBatchId();
    if (batch.batchId() < next) {
      throw new IllegalStateException(
          "batch " + batch.batchId() + " is already planned; next id is " + next);
    }
    ObjectNode entry = mapper.createObjectNode();
    entry.put("type", "planned");
    entry.put("batchId", batch.batchId());
    entry.put("time", batch.time().toString());
    ObjectNode plans = entry.putObject("plans");
    batch.plans().forEach(plans::set);
    batches.append(entry);
    planned.add(batch);
  }

  /** Durably records that a batch committed. Idempotent for the last committed id. */
  public void appendCommitted(long batchId, Instant committedAt) {
    appendCommitEntry("committed", batchId, committedAt);
  }

  /**
   * Durably records that the planned batches up to {@code throughBatchId} will never run (the
   * offset stores disagreed with them at start); afterwards they no longer count as uncommitted.
   */
  public void appendDropped(long throughBatchId, Instant at) {
    appendCommitEntry("dropped", throughBatchId, at);
  }

  private void appendCommitEntry(String type, long batchId, Instant at) {
    if (batchId <= lastCommitted) {
      return;
    }
    ObjectNode entry = mapper.createObjectNode();
    entry.put("type", type);
    entry.put("batchId", batchId);
    entry.put("committedAt", at.toString());
    commits.append(entry);
    lastCommitted = batchId;
    commitEntries++;
  }

  /**
   * Drops entries no longer needed: committed batches older than the newest {@code retain}, keeping
   * always the last planned batch (the next plan continues after it). Both files are rewritten
   * atomically, commits first so a crash in between never makes a committed batch look uncommitted.
   */
  public void clean(int retain) {
    if (retain < 1) {
      throw new IllegalArgumentException("retain must be >= 1, was " + retain);
    }
    long keepFrom = lastCommitted - retain + 1;
    int before = planned.size();
    if (commitEntries > retain) {
      ObjectNode entry = mapper.createObjectNode();
      entry.put("type", "committed");
      entry.put("batchId", lastCommitted);
      entry.put("committedAt", Instant.EPOCH.toString());
      entry.put("version", CheckedLog.FORMAT_VERSION);
      commits.rewrite(List.of(entry));
      commitEntries = 1;
    }
    Iterator<PlannedBatch> it = planned.iterator();
    while (it.hasNext() && planned.size() > 1) {
      PlannedBatch b = it.next();
      if (b.batchId() < keepFrom && b.batchId() <= lastCommitted) {
        it.remove();
      } else {
        break;
      }
    }
    if (planned.size() != before) {
      List<ObjectNode> entries = new ArrayList<>();
      for (PlannedBatch b : planned) {
        ObjectNode entry = mapper.createObjectNode();
        entry.put("type", "planned");
        entry.put("batchId", b.batchId());
        entry.put("time", b.time().toString());
        ObjectNode plans = entry.putObject("plans");
        b.plans().forEach(plans::set);
        entry.put("version", CheckedLog.FORMAT_VERSION);
        entries.add(entry);
      }
      batches.rewrite(entries);
    }
  }
}
