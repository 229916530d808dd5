package io.sluice.engine.dstream.internal;

import io.sluice.engine.Batch;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.function.VoidFunction2;
import io.sluice.engine.internal.EngineAccess;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Registration and bodies of the built-in output operations. */
public final class Outputs {

  private static final String RULE = "-------------------------------------------";

  private Outputs() {
  }

  /** Registers an output named {@code kind-<index>}. */
  public static <T> OutputOperation<T> register(DStream<T> stream, String kind, VoidFunction2<RDD<T>, Batch> f) {
    return EngineAccess.runtime(stream.context()).graph().registerOutput(stream, kind, null, f);
  }

  /** Registers an output with an explicit name. */
  public static <T> OutputOperation<T> registerNamed(DStream<T> stream, String name,
                             VoidFunction2<RDD<T>, Batch> f) {
    return EngineAccess.runtime(stream.context()).graph().registerOutput(stream, null, name, f);
  }

  /** Factory used by the graph. */
  public static <T> OutputOperation<T> create(DStream<T> stream, String name, int index,
                        VoidFunction2<RDD<T>, Batch> f) {
    return new OutputOperation<>(stream, name, index, f);
  }

  /** The body of {@code print(n)}. */
  public static <T> void print(RDD<T> rdd, Batch batch, int n, PrintStream out) {
    List<T> first = rdd.take(n + 1);
    StringBuilder sb = new StringBuilder();
    sb.append(RULE).append('\n').append("Time: ").append(batch.time().toEpochMilli()).append(" ms\n")
        .append(RULE).append('\n');
    for (int i = 0; i < Math.min(n, first.size()); i++) {
      sb.append(first.get(i)).append('\n');
    }
    if (first.size() > n) {
      sb.append("...\n");
    }
    sb.append('\n');
    out.print(sb);
    out.flush();
  }

  /** The body of {@code saveAsTextFiles}. */
  public static <T> void saveAsText(RDD<T> rdd, Batch batch, String prefix, String suffix) throws IOException {
    String dirName = prefix + "-" + batch.time().toEpochMilli()
        + (suffix == null || suffix.isEmpty() ? "" : "." + suffix);
    Path target = Path.of(dirName).toAbsolutePath();
    if (Files.isDirectory(target)) {
      return;
    }
    Path parent = target.getParent();
    Files.createDirectories(parent);
    Path temp = parent.resolve("." + target.getFileName() + ".tmp-" + batch.id());
    deleteRecursively(temp);
    Files.createDirectories(temp);
    rdd.foreachPartition(it -> {
      int partition = TaskContext.current().map(TaskContext::partition).orElse(0);
      Path file = temp.resolve(String.format("part-%05d", partition));
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        while (it.hasNext()) {
          w.write(String.valueOf(it.next()));
          w.write('\n');
        }
      }
    });
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
