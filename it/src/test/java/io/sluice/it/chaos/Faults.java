package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;

/** Shared assertions of the fault-injection tests. */
final class Faults {

  private Faults() {}

  /**
   * Runs {@code body}; on an assertion failure or error, adds the tail of the pipeline's log to the
   * message.
   */
  static void withLogOnFailure(ChaosRun run, Runnable body) {
    try {
      body.run();
    } catch (AssertionError | RuntimeException e) {
      AssertionError wrapped =
          new AssertionError(
              e.getMessage()
                  + "\n"
                  + run.summary()
                  + "\n----- pipeline log tail ("
                  + run.log()
                  + ") -----\n"
                  + PipelineProcess.tail(run.log(), 80),
              e);
      throw wrapped;
    }
  }

  /** Asserts that no run ended by itself (a failed batch) when nothing but kills was injected. */
  static void assertNoSelfExits(ChaosRun run) {
    assertThat(run.selfExits).as("[%s] runs that failed by themselves", run.appName()).isEmpty();
  }
}
