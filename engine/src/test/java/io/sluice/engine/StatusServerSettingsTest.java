package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code statusServer(port)} without the status module on the class path. */
class StatusServerSettingsTest {

  @Test
  void statusServerWithoutTheStatusModuleFailsAtBuildNamingTheArtifact() {
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("no-status")
            .batchInterval(Duration.ofSeconds(1))
            .statusServer(0);
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "statusServer(0) needs a status server on the class path: add the dependency"
                + " io.sluice:sluice-status (no io.sluice.engine.status.StatusServerProvider was"
                + " found)");
  }

  @Test
  void statusSettingsAreValidatedBeforeLookingForTheServer() {
    assertThatThrownBy(
            () ->
                StreamingContext.builder()
                    .appName("no-status")
                    .batchInterval(Duration.ofSeconds(1))
                    .statusServer(70_000)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("statusServer port must be in 0..65535, was 70000");
  }
}
