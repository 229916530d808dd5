package io.sluice.sinks.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.engine.Batch;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.function.Function;
import io.sluice.engine.output.TextFiles;
import io.sluice.engine.rdd.RDD;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.StreamOffsets;
import io.sluice.sinks.FileSink;
import io.sluice.sinks.SinkException;
import io.sluice.sinks.TransactionalSink;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file sink; see {@link FileSink}. Part files are written on task threads (one file per
 * partition, no sharing); the manifest, renames and offset commits on the job thread.
 *
 * @param <T> record type
 */
public final class FileSinkImpl<T> implements FileSink<T> {

  private static final Logger LOG = LoggerFactory.getLogger(FileSinkImpl.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MANIFEST_VERSION = 1;

  private final Path directory;
  private final Function<T, String> format;
  private final OffsetStore offsetStore;
  private final String name;
  private volatile SinkMetrics metrics;

  /** Creates the sink from validated settings. */
  public FileSinkImpl(
      Path directory, Function<T, String> format, OffsetStore offsetStore, String name) {
    this.directory = directory;
    this.format = format;
    this.offsetStore = offsetStore;
    this.name = name;
    this.metrics = SinkMetrics.detached(describe());
  }

  @Override
  public String describe() {
    return "FileSink[" + name + "]";
  }

  @Override
  public DeliveryGuarantee guarantee() {
    return DeliveryGuarantee.IDEMPOTENT;
  }

  @Override
  public Optional<CommitTarget> offsetCommitTarget() {
    return Optional.ofNullable(offsetStore)
        .map(store -> new CommitTarget(store.location(), "offset store " + store.describe()));
  }

  /**
   * Creates the directory and tidies what a crash left: a batch directory moved aside for
   * replacement is put back if its replacement never arrived; temporary directories are deleted.
   */
  @Override
  public void open(StreamingContext context) throws IOException {
    metrics = SinkMetrics.of(context.meterRegistry(), context.appName(), describe());
    Files.createDirectories(directory);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, ".batch=*")) {
      for (Path p : entries) {
        String file = p.getFileName().toString();
        if (file.endsWith(".old")) {
          Path finalDir = directory.resolve(file.substring(1, file.length() - ".old".length()));
          if (!Files.exists(finalDir)) {
            Files.move(p, finalDir, StandardCopyOption.ATOMIC_MOVE);
            LOG.info("{}: restored {} interrupted while being replaced", describe(), finalDir);
            continue;
          }
        }
        deleteRecursively(p);
      }
    }
  }

  @Override
  public void write(Batch batch, int partition, Iterator<T> records) throws Exception {
    Path temp = tempDirectory(batch.id());
    Files.createDirectories(temp);
    writePartition(temp, partition, records);
  }

  @Override
  public void write(RDD<T> rdd, Batch batch) throws Exception {
    long start = System.nanoTime();
    Path temp = tempDirectory(batch.id());
    deleteRecursively(temp);
    Files.createDirectories(temp);
    List<Long> counts =
        rdd.runJob((records, task) -> writePartition(temp, task.partition(), records));
    long total = counts.stream().mapToLong(Long::longValue).sum();
    writeManifest(temp, batch, counts, total);
    fsync(temp);
    publish(temp, FileSink.batchDirectory(directory, batch.id()), batch.id());
    commitOffsets(batch);
    metrics.batchWritten(start, total);
  }

  private Path tempDirectory(long batchId) {
    return directory.resolve(".batch=" + batchId + ".tmp");
  }

  private static String partFile(int partition) {
    return TextFiles.partFile(partition);
  }

  /** Writes one partition's file through a temporary name, so a retried task replaces it whole. */
  private long writePartition(Path dir, int partition, Iterator<T> records) throws Exception {
    return TextFiles.writePart(dir, partition, records, format);
  }

  private void writeManifest(Path dir, Batch batch, List<Long> counts, long total)
      throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put("v", MANIFEST_VERSION);
    m.put("batchId", batch.id());
    m.put("time", batch.time().toString());
    ArrayNode ranges = m.putArray("ranges");
    for (Map.Entry<String, Object> plan : batch.plans().entrySet()) {
      if (plan.getValue() instanceof StreamOffsets offsets) {
        for (OffsetRange r : offsets.offsetRanges()) {
          ranges
              .addObject()
              .put("input", plan.getKey())
              .put("group", offsets.group())
              .put("topic", r.topic())
              .put("partition", r.partition())
              .put("from", r.fromOffset())
              .put("until", r.untilOffset());
        }
      }
    }
    ArrayNode files = m.putArray("files");
    for (int p = 0; p < counts.size(); p++) {
      files.addObject().put("name", partFile(p)).put("records", counts.get(p));
    }
    m.put("records", total);
    Path manifest = dir.resolve(MANIFEST);
    try (FileChannel channel =
        FileChannel.open(
            manifest,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(
          java.nio.ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m)));
      channel.force(true);
    }
  }

  /**
   * Renames the complete temporary directory to its final name; an existing batch directory is
   * moved aside ({@code .batch=<id>.old}, restored by {@link #open} if a crash falls between the
   * two renames) first.
   */
  private void publish(Path temp, Path finalDir, long batchId) throws IOException {
    if (TextFiles.publish(temp, finalDir, directory.resolve(".batch=" + batchId + ".old"))) {
      LOG.info("{}: batch {} written again: replaced {}", describe(), batchId, finalDir);
    }
  }

  private void commitOffsets(Batch batch) {
    if (offsetStore == null) {
      return;
    }
    for (BatchCommit commit : TransactionalSink.batchCommits(batch)) {
      try {
        offsetStore.commit(commit);
      } catch (RuntimeException e) {
        throw new SinkException(
            describe()
                + ": batch "
                + batch.id()
                + " is written but committing its"
                + " offsets to "
                + offsetStore.describe()
                + " failed: "
                + e,
            e);
      }
    }
  }

  private static void fsync(Path dir) {
    TextFiles.forceDirectory(dir);
  }

  private static void deleteRecursively(Path p) throws IOException {
    TextFiles.deleteRecursively(p);
  }
}
