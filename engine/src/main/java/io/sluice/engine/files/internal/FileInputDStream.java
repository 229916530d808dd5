package io.sluice.engine.files.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CheckpointException;
import io.sluice.engine.SequencePosition;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.dstream.InputDStream;
import io.sluice.engine.files.internal.FilePlan.FileEntry;
import io.sluice.engine.files.internal.LedgerEvent.TakenFile;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.internal.StateDirectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lines of the files that appear in one directory (Spark's {@code textFileStream}): every batch
 * takes the files listed at its plan time that no batch took before, numbers them (the stream's
 * progress, see {@link FilePlan}) and records them in its {@link FileLedger} before the plan is
 * returned; the batch's RDD reads each file's lines in a partition of its own.
 *
 * <p><b>Recovery.</b> With a checkpoint directory the ledger is durable under {@code
 * checkpointDir/files/<stream>/ledger/}. At start the stream settles where its progress stands:
 * where the output that commits its file numbers stands when there is one ({@link #committedBy}),
 * else after the checkpoint's last committed batch. Files numbered before that position stay taken;
 * the planned batches that are replayed keep exactly their files; every other file the ledger holds
 * (taken by a batch the batch log never recorded, because the process died between the two, or by a
 * batch that is not replayed) is offered again, to the next batch.
 *
 * @see io.sluice.engine.StreamingContext#textFileStream(Path)
 */
public final class FileInputDStream extends InputDStream<String, FilePlan> {

  private static final Logger LOG = LoggerFactory.getLogger(FileInputDStream.class);

  private final Path dir;
  private volatile FileLedger ledger;
  private volatile BatchOutput<?> committer;
  // Decided by recover, applied by resume, read by pastBatches; the thread starting the context.
  private long position;
  private List<Planned<FilePlan>> replayable = List.of();

  /** Registers the stream of the files in {@code dir} with {@code ctx}. */
  public FileInputDStream(StreamingContext ctx, Path dir, String name) {
    super(ctx, name, FilePlan.class);
    this.dir = dir.toAbsolutePath().normalize();
  }

  /** The directory the stream reads. */
  public Path directory() {
    return dir;
  }

  /** Whether the ledger survives a restart (the context has a checkpoint directory). */
  public boolean durable() {
    return context().checkpointDir().isPresent();
  }

  /** The ledger's directory under the checkpoint, when there is one. */
  public Optional<Path> ledgerDirectory() {
    return context()
        .checkpointDir()
        .map(d -> d.resolve("files").resolve(StateDirectories.encode(name())).resolve("ledger"));
  }

  /**
   * Checks that the directory can be listed and opens the ledger.
   *
   * @throws IllegalStateException naming the directory when it is missing or cannot be read
   * @throws CheckpointException when the ledger cannot be read
   */
  @Override
  public void start() {
    DirectoryListing.checkReadable(dir, name());
    Optional<Path> ledgerDir = ledgerDirectory();
    ledger =
        ledgerDir.isPresent()
            ? FileLedger.open(name(), ledgerDir.get(), context().clock())
            : FileLedger.inMemory(name());
  }

  /** With a checkpoint directory, the file numbers are a progress worth committing. */
  @Override
  public boolean sequenced() {
    return durable();
  }

  @Override
  public void committedBy(BatchOutput<?> output) {
    committer = output;
  }

  @Override
  public Recovered recover(List<Planned<FilePlan>> planned, long checkpointLastCommitted) {
    BatchOutput<?> output = committer;
    if (output != null) {
      return recoverFrom(output, planned);
    }
    Recovered r = super.recover(planned, checkpointLastCommitted);
    if (checkpointLastCommitted >= 0) {
      ledger.committed(checkpointLastCommitted);
    }
    replayable = planned.stream().filter(p -> p.batchId() > checkpointLastCommitted).toList();
    position =
        replayable.isEmpty()
            ? ledger.firstNumberAfterBatch(checkpointLastCommitted)
            : replayable.get(0).plan().from();
    return r;
  }

  /**
   * The output that commits this stream's file numbers decides where it stands: a planned batch
   * above its committed batch is replayed only if it begins at the committed number; otherwise
   * those batches are dropped with a WARN and their files offered again.
   */
  private Recovered recoverFrom(BatchOutput<?> output, List<Planned<FilePlan>> planned) {
    Optional<SequencePosition> stored = output.committedSequence(FilePlan.sequenceOf(name()));
    long after = stored.map(SequencePosition::batchId).orElse(-1L);
    position = stored.map(SequencePosition::next).orElse(0L);
    OptionalLong committed = stored.isPresent() ? OptionalLong.of(after) : OptionalLong.empty();
    if (stored.isPresent()) {
      ledger.committed(after);
    }
    List<Planned<FilePlan>> candidates = planned.stream().filter(p -> p.batchId() > after).toList();
    replayable = List.of();
    if (!candidates.isEmpty() && candidates.get(0).plan().from() == position) {
      LOG.info(
          "file stream {} replays planned batches {}..{}: the first begins at file {}, where {}"
              + " stands (batch {})",
          name(),
          candidates.get(0).batchId(),
          candidates.get(candidates.size() - 1).batchId(),
          position,
          output.describe(),
          after);
      replayable = candidates;
      return Recovered.replayFrom(candidates.get(0).batchId(), committed);
    }
    if (!candidates.isEmpty()) {
      LOG.warn(
          "file stream {}: the checkpoint's planned batches {}..{} begin at file {}, but {} stands at"
              + " file {} (batch {}): the checkpoint and the committed progress disagree (one was"
              + " restored from a copy); those batches are dropped and their files offered again",
          name(),
          candidates.get(0).batchId(),
          candidates.get(candidates.size() - 1).batchId(),
          candidates.get(0).plan().from(),
          output.describe(),
          position,
          after);
    }
    return Recovered.nothingToReplay(committed);
  }

  /**
   * Brings the ledger to the decision: the files numbered before the committed position stay taken,
   * the replayed batches hold exactly their planned files, and every other file is offered again.
   */
  @Override
  public void resume(boolean replaying) {
    super.resume(replaying);
    List<Planned<FilePlan>> kept = replaying ? replayable : List.of();
    replayable = List.of();
    settle(position, kept);
  }

  private void settle(long from, List<Planned<FilePlan>> kept) {
    List<TakenFile> expected = new ArrayList<>();
    long until = from;
    for (Planned<FilePlan> p : kept) {
      long seq = p.plan().from();
      for (FileEntry f : p.plan().files()) {
        expected.add(new TakenFile(f.name(), p.batchId(), seq++, f.size(), f.modifiedMillis()));
      }
      until = p.plan().until();
    }
    long end = until;
    List<TakenFile> held = ledger.filesFrom(from);
    List<TakenFile> inBatches = held.stream().filter(f -> f.seq() < end).toList();
    List<TakenFile> beyond = held.stream().filter(f -> f.seq() >= end).toList();
    if (!inBatches.equals(expected)) {
      LOG.warn(
          "file stream {}: the ledger's files numbered from {} ({}) are not those of the replayed"
              + " batches ({}); it is rewritten from the batch log",
          name(),
          from,
          inBatches.size(),
          expected.size());
      ledger.moveTo(from);
      for (Planned<FilePlan> p : kept) {
        if (p.plan().from() != ledger.next()) {
          throw new CheckpointException(
              "file stream '"
                  + name()
                  + "': planned batch "
                  + p.batchId()
                  + " begins at file "
                  + p.plan().from()
                  + ", not where the batch before it ended ("
                  + ledger.next()
                  + "); remove the checkpoint directory to start over");
        }
        ledger.take(p.batchId(), p.plan().files());
      }
    } else if (!beyond.isEmpty()) {
      LOG.info(
          "file stream {}: {} files (from {}) were taken by batches the batch log never recorded"
              + " (the process stopped between the two) or that are not replayed; they go to the"
              + " next batch",
          name(),
          beyond.size(),
          beyond.get(0).name());
      ledger.moveTo(end);
    } else if (ledger.next() != end) {
      if (ledger.next() < end) {
        LOG.warn(
            "file stream {}: its committed progress stands at file {}, past the {} its ledger"
                + " numbered (the ledger was restored from an older copy): files the ledger does not"
                + " hold are read as new",
            name(),
            end,
            ledger.next());
      }
      ledger.moveTo(end);
    }
  }

  /**
   * Of the committed batches before the restart, the newest ones whose files are all still in the
   * directory as they were: windows read those again. None when the stream continues from another
   * position than the one they lead to.
   */
  @Override
  public List<Planned<FilePlan>> pastBatches(List<Planned<FilePlan>> committed) {
    if (committed.isEmpty() || committed.get(committed.size() - 1).plan().until() != position) {
      return List.of();
    }
    int first = committed.size();
    while (first > 0 && unchanged(committed.get(first - 1).plan())) {
      first--;
    }
    return committed.subList(first, committed.size());
  }

  private boolean unchanged(FilePlan plan) {
    for (FileEntry f : plan.files()) {
      try {
        BasicFileAttributes a =
            Files.readAttributes(dir.resolve(f.name()), BasicFileAttributes.class);
        if (a.size() != f.size() || a.lastModifiedTime().toMillis() != f.modifiedMillis()) {
          return false;
        }
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }

  /**
   * Lists the directory, forgets committed files that left it, and takes every file no batch took,
   * logged in the ledger before the plan is returned.
   */
  @Override
  public FilePlan plan(long batchId, Instant batchTime) {
    Set<String> present = DirectoryListing.names(dir, name());
    List<String> forgotten = ledger.forgetAbsent(present);
    if (!forgotten.isEmpty()) {
      LOG.debug(
          "file stream {}: {} committed files left {}; their names are new again",
          name(),
          forgotten.size(),
          dir);
    }
    List<String> unseen = present.stream().filter(n -> !ledger.holds(n)).toList();
    List<FileEntry> fresh = DirectoryListing.regularFiles(dir, unseen, name());
    long from = ledger.take(batchId, fresh);
    return new FilePlan(FilePlan.sequenceOf(name()), from, from + fresh.size(), fresh);
  }

  @Override
  public RDD<String> compute(long batchId, Instant batchTime, FilePlan plan) {
    return new FileLinesRDD(context(), name(), dir, batchId, plan.files());
  }

  @Override
  public void commit(Batch batch, FilePlan plan) {
    ledger.committed(batch.id());
  }

  @Override
  public void committedByOutput(Batch batch, FilePlan plan) {
    ledger.committed(batch.id());
  }

  @Override
  public void stop() {
    FileLedger l = ledger;
    if (l != null) {
      l.close();
    }
  }

  /** The ledger, for tests; null before start. */
  FileLedger ledger() {
    return ledger;
  }
}
