package io.sluice.sinks;

import io.sluice.engine.function.Function;
import io.sluice.offsets.OffsetStore;
import io.sluice.sinks.internal.FileSinkImpl;
import java.nio.file.Path;

/**
 * Writes each batch as one directory {@code <directory>/batch=<id>} holding one text file per
 * partition ({@code part-00000}, one formatted record per line, UTF-8) and a {@code _MANIFEST.json}
 * (format version, batch id and time, every input's offset ranges, the files and their record
 * counts).
 *
 * <p>The tasks write the part files into {@code .batch=<id>.tmp} (a retried task rewrites its own
 * file), the job thread adds the manifest, fsyncs, and renames the directory to {@code batch=<id>}
 * atomically: a reader that lists {@code batch=*} directories sees complete batches only. Writing a
 * batch id again (a replay) replaces the old directory, never adds a second copy, so the guarantee
 * is {@link io.sluice.engine.DeliveryGuarantee#IDEMPOTENT IDEMPOTENT}: each record appears once in
 * the directory tree. With an {@link Builder#offsetStore(OffsetStore) offset store} the batch's
 * offsets are committed to it after the rename; a store that already holds the batch (a replay) is
 * fine.
 *
 * @param <T> record type
 */
public interface FileSink<T> extends Sink<T> {

  /** The name of a batch's manifest file. */
  String MANIFEST = "_MANIFEST.json";

  /** A new builder. */
  static <T> Builder<T> builder() {
    return new Builder<>();
  }

  /** The directory {@code batch=<batchId>} of a batch under {@code directory}. */
  static Path batchDirectory(Path directory, long batchId) {
    return directory.resolve("batch=" + batchId);
  }

  /**
   * Builds a {@link FileSink}. Not thread-safe; {@link #build()} copies the settings.
   *
   * @param <T> record type
   */
  final class Builder<T> {
    private Path directory;
    private Function<T, String> format = String::valueOf;
    private OffsetStore offsetStore;
    private String name = "files";

    private Builder() {}

    /** The parent directory of the batch directories (required; created at start if absent). */
    public Builder<T> directory(Path directory) {
      this.directory = directory;
      return this;
    }

    /**
     * Formats a record as one line, without the line separator (default {@code String.valueOf}).
     * Runs on task threads.
     */
    public Builder<T> format(Function<T, String> format) {
      this.format = format;
      return this;
    }

    /** A store that receives the batch's offsets after its directory is in place (optional). */
    public Builder<T> offsetStore(OffsetStore offsetStore) {
      this.offsetStore = offsetStore;
      return this;
    }

    /** A name for logs and metrics (default {@code files}). */
    public Builder<T> name(String name) {
      this.name = name;
      return this;
    }

    /**
     * Validates the settings and builds the sink.
     *
     * @throws IllegalArgumentException naming the first invalid setting and its value
     */
    public FileSink<T> build() {
      if (directory == null) {
        throw new IllegalArgumentException("directory must be set, was null");
      }
      if (format == null) {
        throw new IllegalArgumentException("format must not be null, was null");
      }
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      return new FileSinkImpl<>(directory.toAbsolutePath().normalize(), format, offsetStore, name);
    }
  }
}
