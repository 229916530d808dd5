package io.sluice.kafka.direct;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Nothing in this module may import another module's internal package. */
class LayeringTest {

  private static final Pattern FOREIGN_INTERNAL =
      Pattern.compile("^import\\s+(static\\s+)?io\\.sluice\\.(?!kafka\\.direct\\.)[\\w.]*\\.internal\\.", Pattern.MULTILINE);

  @Test
  void mainCodeImportsNoOtherModulesInternals() throws IOException {
    List<String> offenders;
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      offenders = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
        try {
          return FOREIGN_INTERNAL.matcher(Files.readString(p)).find();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).map(Path::toString).toList();
    }
    assertThat(offenders).isEmpty();
  }
}
