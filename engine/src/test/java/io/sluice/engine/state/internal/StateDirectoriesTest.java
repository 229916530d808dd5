package io.sluice.engine.state.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirectoriesTest {

  @TempDir Path root;

  @Test
  void anyOperatorNameBecomesOneSafeDirectoryNameAndBack() {
    for (String name :
        List.of(
            "counts",
            "user-sessions_v2",
            "a.b",
            ".hidden",
            "..",
            "a/b\\c",
            "per cent %41",
            "ünïcødé ☃",
            "CON")) {
      String encoded = StateDirectories.encode(name);
      assertThat(encoded).as(name).matches("[A-Za-z0-9_%-][A-Za-z0-9_.%-]*");
      assertThat(StateDirectories.decode(encoded)).isEqualTo(name);
      assertThat(root.resolve(encoded).getParent()).isEqualTo(root);
    }
    assertThat(StateDirectories.encode("counts")).isEqualTo("counts");
    assertThatThrownBy(() -> StateDirectories.encode("")).hasMessageContaining("non-empty");
  }

  @Test
  void partitionsLiveUnderTheirOperator() {
    assertThat(StateDirectories.partitionDir(root, "sessions/v1", 3))
        .isEqualTo(root.resolve("sessions%2Fv1").resolve("3"));
  }

  @Test
  void listsOperatorsWithStateTheApplicationNoLongerHas() throws Exception {
    for (String op : List.of("counts", "sessions/v1", "dedupe")) {
      Files.createDirectories(StateDirectories.partitionDir(root, op, 0));
    }
    Files.createDirectories(root.resolve(".dropping-old"));
    Files.writeString(root.resolve("README"), "not state");

    assertThat(StateDirectories.orphans(root, Set.of("counts", "sessions/v2")))
        .containsExactly("dedupe", "sessions/v1");
    assertThat(StateDirectories.orphans(root, Set.of("counts", "sessions/v1", "dedupe"))).isEmpty();
    assertThat(StateDirectories.orphans(root.resolve("absent"), Set.of("counts"))).isEmpty();
  }

  @Test
  void startUpCheckNamesTheOrphansUnlessAllowedToDropThem() throws Exception {
    Files.createDirectories(StateDirectories.partitionDir(root, "counts", 0));
    Files.createDirectories(StateDirectories.partitionDir(root, "old name", 0));
    Files.writeString(StateDirectories.partitionDir(root, "old name", 0).resolve("3.delta"), "x");

    assertThatThrownBy(() -> StateDirectories.checkOrphans(root, Set.of("counts"), false))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("'old name' (" + root.resolve("old%20name") + ")")
        .hasMessageContaining("renamed or removed");
    assertThat(root.resolve("old%20name")).exists();

    StateDirectories.checkOrphans(root, Set.of("counts"), true);

    assertThat(root.resolve("old%20name")).doesNotExist();
    assertThat(StateDirectories.partitionDir(root, "counts", 0)).exists();
    assertThat(StateDirectories.orphans(root, Set.of("counts"))).isEmpty();
  }

  @Test
  void dropFinishesAnEarlierInterruptedDrop() throws Exception {
    Files.createDirectories(root.resolve(".dropping-gone/0"));
    Files.writeString(root.resolve(".dropping-gone/0/1.delta"), "x");
    Files.createDirectories(StateDirectories.partitionDir(root, "stale", 1));

    StateDirectories.drop(root, List.of("stale"));

    try (var entries = Files.list(root)) {
      assertThat(entries).isEmpty();
    }
  }
}
