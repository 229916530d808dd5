package io.sluice.engine.files.internal;

import io.sluice.engine.StreamingContext;
import io.sluice.engine.files.internal.FilePlan.FileEntry;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

/**
 * The lines of one batch of a directory stream: one partition per file of the plan, read lazily by
 * a {@link LineReader} that refuses a file changed or gone since the plan.
 */
final class FileLinesRDD extends RDD<String> {

  private final String stream;
  private final Path dir;
  private final long batchId;
  private final List<FileEntry> files;

  FileLinesRDD(StreamingContext ctx, String stream, Path dir, long batchId, List<FileEntry> files) {
    super(ctx);
    this.stream = stream;
    this.dir = dir;
    this.batchId = batchId;
    this.files = List.copyOf(files);
  }

  @Override
  public int numPartitions() {
    return files.size();
  }

  @Override
  public Iterator<String> compute(int partition, TaskContext ctx) {
    LineReader reader = LineReader.open(stream, dir, batchId, files.get(partition));
    ctx.addCompletionListener(reader::close);
    return reader;
  }
}
