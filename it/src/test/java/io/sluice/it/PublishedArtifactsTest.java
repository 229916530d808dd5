package io.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every library module of the build is in {@code sluice-bom} and names its automatic module after
 * its folder, so a module added later is not forgotten in either place; the consumer project
 * ({@code it/consumer}) builds against the version this build installs.
 */
class PublishedArtifactsTest {

  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

  /** Modules of the reactor that are not libraries: not in the BOM, not published for users. */
  private static final Set<String> NOT_LIBRARIES = Set.of("bom", "examples", "it", "bench");

  @Test
  void bomListsEveryLibraryModuleAtTheProjectVersion() throws IOException {
    String bom = Files.readString(ROOT.resolve("bom/pom.xml"));

    for (String module : libraryModules()) {
      assertThat(bom)
          .as("bom/pom.xml manages sluice-%s", module)
          .contains(
              "<artifactId>sluice-"
                  + module
                  + "</artifactId><version>${project.version}</version>");
    }
  }

  @Test
  void everyLibraryModuleNamesItsAutomaticModule() throws IOException {
    for (String module : libraryModules()) {
      String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
      assertThat(pom)
          .as("%s/pom.xml sets sluice.module.name (Automatic-Module-Name)", module)
          .contains(
              "<sluice.module.name>io.sluice."
                  + module.replace('-', '.')
                  + "</sluice.module.name>");
    }
  }

  @Test
  void consumerProjectBuildsAgainstThisVersion() throws IOException {
    String consumer = Files.readString(ROOT.resolve("it/consumer/pom.xml"));

    assertThat(consumer)
        .as("it/consumer/pom.xml's sluice.version is the version this build installs")
        .contains("<sluice.version>" + System.getProperty("sluice.version") + "</sluice.version>");
  }

  private static List<String> libraryModules() throws IOException {
    Matcher m =
        Pattern.compile("<module>([^<]+)</module>")
            .matcher(Files.readString(ROOT.resolve("pom.xml")));
    List<String> modules =
        m.results().map(r -> r.group(1)).filter(name -> !NOT_LIBRARIES.contains(name)).toList();
    assertThat(modules).contains("engine", "offsets", "kafka-direct", "sinks", "testkit");
    return modules;
  }
}
