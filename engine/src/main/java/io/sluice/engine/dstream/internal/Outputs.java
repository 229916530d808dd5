package io.sluice.engine.dstream.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.function.VoidFunction2;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.output.ConsoleOutput;
import io.sluice.engine.output.TextFiles;
import io.sluice.engine.rdd.RDD;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Registration and bodies of the built-in output operations. */
public final class Outputs {

  private Outputs() {}

  /** Registers an output named {@code kind-<index>}. */
  public static <T> OutputOperation<T> register(
      DStream<T> stream, String kind, VoidFunction2<RDD<T>, Batch> f) {
    return EngineAccess.runtime(stream.context()).graph().registerOutput(stream, kind, null, f);
  }

  /** Registers an output with an explicit name. */
  public static <T> OutputOperation<T> registerNamed(
      DStream<T> stream, String name, VoidFunction2<RDD<T>, Batch> f) {
    return EngineAccess.runtime(stream.context()).graph().registerOutput(stream, null, name, f);
  }

  /** Factory used by the graph. */
  public static <T> OutputOperation<T> create(
      DStream<T> stream, String name, int index, VoidFunction2<RDD<T>, Batch> f) {
    return new OutputOperation<>(stream, name, index, f);
  }

  /** The body of {@code print(n)}: the engine's one console output. */
  public static <T> void print(RDD<T> rdd, Batch batch, int n, PrintStream out) {
    new ConsoleOutput<T>(n, out).print(rdd, batch);
  }

  /**
   * The body of {@code saveAsTextFiles}: one {@code prefix-<time ms>[.suffix]} directory per batch,
   * written through {@link TextFiles} so it appears whole; a batch whose directory exists (a
   * replay) is left as it is.
   */
  public static <T> void saveAsText(RDD<T> rdd, Batch batch, String prefix, String suffix)
      throws Exception {
    String dirName =
        prefix
            + "-"
            + batch.time().toEpochMilli()
            + (suffix == null || suffix.isEmpty() ? "" : "." + suffix);
    Path target = Path.of(dirName).toAbsolutePath();
    if (Files.isDirectory(target)) {
      return;
    }
    Path parent = target.getParent();
    Files.createDirectories(parent);
    Path temp = parent.resolve("." + target.getFileName() + ".tmp-" + batch.id());
    TextFiles.deleteRecursively(temp);
    Files.createDirectories(temp);
    rdd.runJob((it, task) -> TextFiles.writePart(temp, task.partition(), it, String::valueOf));
    TextFiles.publish(temp, target, parent.resolve("." + target.getFileName() + ".old"));
  }
}
