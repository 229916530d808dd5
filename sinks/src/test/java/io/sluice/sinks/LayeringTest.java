package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class LayeringTest {

    private static final Pattern FOREIGN_INTERNAL =
            Pattern.compile("^import\\s+(static\\s+)?io\\.sluice\\.(?!sinks\\.)[a-z.]*internal\\b", Pattern.MULTILINE);

    @Test
    void mainCodeImportsNoOtherModulesInternalPackage() throws Exception {
        List<String> offenders;
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            offenders = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                try {
                    return FOREIGN_INTERNAL.matcher(Files.readString(p)).find();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).map(Path::toString).toList();
        }
        assertThat(offenders).isEmpty();
    }
}
