package io.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Enforces the module layering of DESIGN.md on the sources of every module: nothing imports another
 * module's {@code internal} package, and {@code engine} knows nothing of Kafka.
 */
class LayeringTest {

  /** Module folder to its root Java package. */
  private static final Map<String, String> MODULES =
      Map.of(
          "engine", "io.sluice.engine",
          "offsets", "io.sluice.offsets",
          "kafka-direct", "io.sluice.kafka.direct",
          "kafka-receiver", "io.sluice.kafka.receiver",
          "sinks", "io.sluice.sinks",
          "status", "io.sluice.status",
          "testkit", "io.sluice.testkit",
          "examples", "io.sluice.examples",
          "it", "io.sluice.it",
          "bench", "io.sluice.bench");

  private static final Pattern IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)", Pattern.MULTILINE);

  @Test
  void noModuleImportsAnotherModulesInternalsAndEngineIgnoresKafka() {
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    assertThat(root.resolve("engine")).isDirectory();
    List<String> violations = violations(root);
    assertThat(violations).as("layering violations").isEmpty();
  }

  @Test
  void scannerReportsAForeignInternalImportAndKafkaInEngine(@TempDir Path root) throws IOException {
    write(
        root,
        "sinks/src/main/java/io/sluice/sinks/Bad.java",
        "package io.sluice.sinks;\nimport io.sluice.engine.internal.Scheduler;\nclass Bad {}\n");
    write(
        root,
        "sinks/src/main/java/io/sluice/sinks/Good.java",
        "package io.sluice.sinks;\nimport io.sluice.sinks.internal.Writer;\nimport io.sluice.engine.Batch;\nclass Good {}\n");
    write(
        root,
        "engine/src/main/java/io/sluice/engine/Leak.java",
        "package io.sluice.engine;\nimport org.apache.kafka.clients.consumer.ConsumerRecord;\nclass Leak {}\n");

    assertThat(violations(root))
        .containsExactlyInAnyOrder(
            "sinks/src/main/java/io/sluice/sinks/Bad.java imports io.sluice.engine.internal.Scheduler (internal to engine)",
            "engine/src/main/java/io/sluice/engine/Leak.java imports org.apache.kafka.clients.consumer.ConsumerRecord (engine must not depend on Kafka)");
  }

  private static List<String> violations(Path root) {
    List<String> found = new ArrayList<>();
    MODULES.forEach(
        (module, pkg) -> {
          for (String sourceSet : List.of("src/main/java", "src/test/java")) {
            Path dir = root.resolve(module).resolve(sourceSet);
            if (Files.isDirectory(dir)) {
              javaFiles(dir).forEach(file -> check(root, module, file, found));
            }
          }
        });
    return found;
  }

  private static void check(Path root, String module, Path file, List<String> found) {
    String source = read(file);
    String relative = root.relativize(file).toString().replace('\\', '/');
    Matcher m = IMPORT.matcher(source);
    while (m.find()) {
      String imported = m.group(1);
      MODULES.forEach(
          (other, otherPkg) -> {
            if (!other.equals(module) && imported.startsWith(otherPkg + ".internal.")) {
              found.add(relative + " imports " + imported + " (internal to " + other + ")");
            }
          });
      if (module.equals("engine") && imported.startsWith("org.apache.kafka.")) {
        found.add(relative + " imports " + imported + " (engine must not depend on Kafka)");
      }
      if (module.equals("engine")
          && (imported.startsWith("io.sluice.status.")
              || imported.startsWith("com.sun.net.httpserver.")
              || imported.startsWith("io.micrometer.prometheusmetrics."))) {
        found.add(
            relative + " imports " + imported + " (engine must not depend on the status server)");
      }
    }
  }

  private static List<Path> javaFiles(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path root, String relative, String content) throws IOException {
    Path file = root.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }
}
